package dev.codebook.client;

import dev.codebook.api.v1.BackupCollectionRequest;
import dev.codebook.api.v1.BackupCollectionResponse;
import dev.codebook.api.v1.BuildIndexRequest;
import dev.codebook.api.v1.CancelOperationRequest;
import dev.codebook.api.v1.GetOperationRequest;
import dev.codebook.api.v1.ListOperationsRequest;
import dev.codebook.api.v1.ListOperationsResponse;
import dev.codebook.api.v1.Operation;
import dev.codebook.api.v1.OperationServiceGrpc;
import dev.codebook.api.v1.StreamVectorsRequest;
import dev.codebook.api.v1.StreamVectorsResponse;
import dev.codebook.api.v1.WaitOperationRequest;
import dev.codebook.api.v1.BuildIndexResponse;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.CollectionServiceGrpc;
import dev.codebook.api.v1.CreateCollectionRequest;
import dev.codebook.api.v1.DeleteCollectionRequest;
import dev.codebook.api.v1.DeleteVectorsRequest;
import dev.codebook.api.v1.DeleteVectorsResponse;
import dev.codebook.api.v1.GetCollectionRequest;
import dev.codebook.api.v1.GetVectorsRequest;
import dev.codebook.api.v1.GetVectorsResponse;
import dev.codebook.api.v1.ListCollectionsRequest;
import dev.codebook.api.v1.ListCollectionsResponse;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.Neighbor;
import dev.codebook.api.v1.Query;
import dev.codebook.api.v1.QueryResult;
import dev.codebook.api.v1.RestoreCollectionRequest;
import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.api.v1.SearchServiceGrpc;
import dev.codebook.api.v1.UpsertVectorsRequest;
import dev.codebook.api.v1.UpsertVectorsResponse;
import dev.codebook.api.v1.VectorServiceGrpc;
import com.google.protobuf.Empty;
import io.grpc.ChannelCredentials;
import io.grpc.Deadline;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A client of a Codebook server ({@code codebook.v1}): collections, vectors and search, blocking
 * or asynchronous, over one gRPC channel. Thread-safe; make one per server and share it.
 *
 * <pre>{@code
 * try (CodebookClient client = CodebookClient.builder()
 *     .target("127.0.0.1:7300")          // bin/codebook serve's default
 *     .deadline(Duration.ofSeconds(10))  // per attempt
 *     .maxRetries(5)
 *     .build()) {
 *   client.createCollection("docs", 3, Metric.COSINE, "Flat");
 *   client.upsert("docs", List.of(
 *       VectorRecord.of("a", new float[] {1, 0, 0}),
 *       VectorRecord.of("b", new float[] {0, 1, 0})));
 *   List<SearchHit> hits = client.search("docs", new float[] {0.9f, 0.1f, 0}, SearchOptions.topK(1));
 *   System.out.println(hits.get(0).id());  // a
 *
 *   // Millions of vectors: one flow-controlled stream, an acknowledgement per batch.
 *   client.streamUpsert("docs", records, 1000,
 *       (batch, acknowledged, count) -> System.err.println(acknowledged + " acknowledged"));
 *   // Builds run as server-side operations with progress; buildIndex(...) waits for one.
 *   Operation op = client.startBuildIndex("docs", 0);
 *   op = client.awaitOperation(op.getName(), Duration.ofMinutes(10),
 *       o -> System.err.printf("%.0f%% %s%n", 100 * o.getProgress(), o.getPhase()));
 *   BuildIndexResponse built = CodebookClient.resultOf(op);
 *   client.upsert("docs", List.of(new VectorRecord("c", new float[] {1, 0.1f, 0},
 *       Map.of("lang", "de", "year", 2021L))));
 *   SearchOptions de = SearchOptions.topK(1)
 *       .withFilter(Filters.eq("lang", "de").and(Filters.atLeast("year", 2020)));
 *   System.out.println(client.search("docs", new float[] {1, 0, 0}, de).get(0).id());  // c
 *   client.deleteCollection("docs");
 * }
 * }</pre>
 *
 * <p><b>Names.</b> Methods take a collection's id ({@code "docs"}) or its resource name ({@code
 * "collections/docs"}).
 *
 * <p><b>Errors.</b> Every failure is a {@link CodebookException} carrying the gRPC status code and
 * the server's message; the async variants complete exceptionally with one.
 *
 * <p><b>Retries.</b> Calls that are safe to repeat (reads, search, upsert, which is idempotent by
 * id, and deletes with {@code allowMissing}) are retried on UNAVAILABLE (the server is starting,
 * restarting or draining) up to {@link Builder#maxRetries} times, with exponential backoff and
 * jitter: attempt n waits a random time between half and all of {@code min(maxBackoff,
 * initialBackoff * 2^(n-1))}, and the channel's reconnect backoff is reset so a server that came
 * back is found at once. Create, delete-collection and build are not retried: a repeat could
 * fail with ALREADY_EXISTS or NOT_FOUND after the first attempt succeeded. RESOURCE_EXHAUSTED
 * is not retried either, because it also means an oversized request.
 *
 * <p><b>Deadlines.</b> {@link Builder#deadline} bounds each attempt; {@link
 * Builder#buildDeadline} bounds how long {@link #buildIndex} waits for its operation, and
 * {@link Builder#streamDeadline} a whole {@link #streamUpsert}.
 *
 * <p><b>Operations.</b> A build is a server-side job: {@link #startBuildIndex} returns its
 * {@link Operation} at once, {@link #awaitOperation} follows its progress, {@link
 * #cancelOperation} stops it; {@link #buildIndex} does all of it and returns the result.
 *
 * <p><b>Bulk ingest.</b> {@link #streamUpsert} sends batches over one {@code StreamVectors}
 * call, writing only while the stream is ready (HTTP/2 flow control; the server reads a batch
 * only after applying the previous one), and reports each acknowledgement.
 *
 * <p><b>Transport.</b> Plaintext by default, which is right for loopback (the server binds to
 * loopback by default); {@link Builder#tls} with {@link Builder#trustCertificates} for anything
 * else. An {@link Builder#apiKey} is sent as {@code authorization: Bearer <key>} on every call.
 */
public final class CodebookClient implements AutoCloseable {

  /** The server's default address ({@code bin/codebook serve}). */
  public static final String DEFAULT_TARGET = "127.0.0.1:7300";
  /** Vectors per upsert request unless a batch size is given. */
  public static final int DEFAULT_BATCH_SIZE = 500;
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(30);
  public static final Duration DEFAULT_BUILD_DEADLINE = Duration.ofHours(1);
  public static final int DEFAULT_MAX_RETRIES = 5;
  public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(100);
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(5);
  /** Matches the server's default inbound limit, so large search responses get through. */
  public static final int DEFAULT_MAX_INBOUND_MESSAGE_SIZE = 64 << 20;

  private static final String NAME_PREFIX = "collections/";
  private static final String OPERATION_PREFIX = "operations/";
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final String target;
  private final ManagedChannel channel;
  private final CollectionServiceGrpc.CollectionServiceStub collections;
  private final VectorServiceGrpc.VectorServiceStub vectors;
  private final SearchServiceGrpc.SearchServiceStub search;
  private final OperationServiceGrpc.OperationServiceStub operations;
  private final ScheduledExecutorService retryTimer;
  private final Duration deadline;
  private final Duration buildDeadline;
  private final Duration streamDeadline;
  private final int maxRetries;
  private final int batchSize;
  private final long initialBackoffNanos;
  private final long maxBackoffNanos;

  private CodebookClient(Builder b) {
    this.target = b.target;
    this.deadline = b.deadline;
    this.buildDeadline = b.buildDeadline;
    this.streamDeadline = b.streamDeadline;
    this.maxRetries = b.maxRetries;
    this.batchSize = b.batchSize;
    this.initialBackoffNanos = b.initialBackoff.toNanos();
    this.maxBackoffNanos = Math.max(initialBackoffNanos, b.maxBackoff.toNanos());
    ChannelCredentials credentials;
    if (b.tls) {
      TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
      if (b.trustCertificates != null) {
        try {
          tls.trustManager(b.trustCertificates.toFile());
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read trust certificates " + b.trustCertificates, e);
        }
      }
      credentials = tls.build();
    } else {
      credentials = InsecureChannelCredentials.create();
    }
    NettyChannelBuilder cb = NettyChannelBuilder.forTarget(target, credentials)
        .maxInboundMessageSize(b.maxInboundMessageSize)
        .userAgent("codebook-client")
        // This client retries UNAVAILABLE itself (backoff, idempotent calls only); gRPC's own
        // retry layer would wrap every call in a stream that buffers its messages for a replay.
        .disableRetry();
    if (b.directExecutor) {
      cb.directExecutor();
    }
    if (b.eventLoopGroup != null) {
      cb.eventLoopGroup(b.eventLoopGroup).channelType(b.channelType);
    }
    if (b.apiKey != null) {
      Metadata headers = new Metadata();
      headers.put(AUTHORIZATION, "Bearer " + b.apiKey);
      cb.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    this.channel = cb.build();
    this.collections = CollectionServiceGrpc.newStub(channel);
    this.vectors = VectorServiceGrpc.newStub(channel);
    this.search = SearchServiceGrpc.newStub(channel);
    this.operations = OperationServiceGrpc.newStub(channel);
    this.retryTimer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "codebook-client-retry");
      t.setDaemon(true);
      return t;
    });
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The server address this client calls. */
  public String target() {
    return target;
  }

  /** Vectors per upsert request for {@link #upsert(String, List)}. */
  public int batchSize() {
    return batchSize;
  }

  // ---------------------------------------------------------------- collections

  /**
   * Creates an empty collection.
   *
   * @param id 1 to 63 lower-case letters, digits and hyphens, starting with a letter
   * @param indexSpec a FAISS index_factory string, e.g. {@code "Flat"} or {@code "IVF256,PQ32"}
   */
  public Collection createCollection(String id, int dimension, Metric metric, String indexSpec) {
    return await(createCollectionAsync(id, dimension, metric, indexSpec));
  }

  public CompletableFuture<Collection> createCollectionAsync(String id, int dimension,
      Metric metric, String indexSpec) {
    String collectionId = id.startsWith(NAME_PREFIX) ? id.substring(NAME_PREFIX.length()) : id;
    CreateCollectionRequest request = CreateCollectionRequest.newBuilder()
        .setCollectionId(collectionId)
        .setCollection(Collection.newBuilder().setDimension(dimension).setMetric(metric)
            .setIndexSpec(indexSpec))
        .build();
    return invoke(false, deadline, request,
        (d, q, o) -> collections.withDeadline(d).createCollection(q, o));
  }

  /** Returns one collection; NOT_FOUND if there is none of that name. */
  public Collection getCollection(String collection) {
    return await(getCollectionAsync(collection));
  }

  public CompletableFuture<Collection> getCollectionAsync(String collection) {
    GetCollectionRequest request = GetCollectionRequest.newBuilder().setName(name(collection)).build();
    return invoke(true, deadline, request,
        (d, q, o) -> collections.withDeadline(d).getCollection(q, o));
  }

  /** Every collection, in name order (all pages). */
  public List<Collection> listCollections() {
    List<Collection> out = new ArrayList<>();
    String token = "";
    do {
      ListCollectionsRequest request = ListCollectionsRequest.newBuilder().setPageToken(token).build();
      ListCollectionsResponse page = await(invoke(true, deadline, request,
          (d, q, o) -> collections.withDeadline(d).listCollections(q, o)));
      out.addAll(page.getCollectionsList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return out;
  }

  /** Deletes a collection and its vectors; NOT_FOUND if there is none. Not retried. */
  public void deleteCollection(String collection) {
    DeleteCollectionRequest request =
        DeleteCollectionRequest.newBuilder().setName(name(collection)).build();
    CompletableFuture<Empty> f = invoke(false, deadline, request,
        (d, q, o) -> collections.withDeadline(d).deleteCollection(q, o));
    await(f);
  }

  /** Trains and builds the collection's index with the server's default seed; waits for it. */
  public BuildIndexResponse buildIndex(String collection) {
    return buildIndex(collection, 0L);
  }

  /**
   * Starts the build of the collection's index as an operation and waits until it ends (the
   * synchronous path): its result when it SUCCEEDED, else a CodebookException with the
   * operation's error (FAILED) or CANCELLED. Bounded by {@link Builder#buildDeadline}.
   *
   * @param seed training seed; 0 for the server's default
   */
  public BuildIndexResponse buildIndex(String collection, long seed) {
    Operation op = startBuildIndex(collection, seed);
    return resultOf(awaitOperation(op.getName(), buildDeadline, null));
  }

  /**
   * Starts the build and returns its operation at once (RUNNING); follow it with {@link
   * #getOperation}, {@link #awaitOperation} or {@link #cancelOperation}. Not retried.
   */
  public Operation startBuildIndex(String collection, long seed) {
    return await(startBuildIndexAsync(collection, seed));
  }

  public CompletableFuture<Operation> startBuildIndexAsync(String collection, long seed) {
    BuildIndexRequest request =
        BuildIndexRequest.newBuilder().setName(name(collection)).setSeed(seed).build();
    return invoke(false, deadline, request,
        (d, q, o) -> collections.withDeadline(d).buildIndex(q, o));
  }

  /**
   * Copies a consistent snapshot of a collection into {@code directory}, an absolute path on the
   * SERVER's filesystem that is missing or empty; writes may go on meanwhile. Not retried;
   * bounded by {@link Builder#buildDeadline} (a backup copies the whole collection).
   */
  public BackupCollectionResponse backupCollection(String collection, String directory) {
    BackupCollectionRequest request = BackupCollectionRequest.newBuilder()
        .setName(name(collection)).setDirectory(directory).build();
    return await(invoke(false, buildDeadline, request,
        (d, q, o) -> collections.withDeadline(d).backupCollection(q, o)));
  }

  /**
   * Creates collection {@code collection} from a backup in {@code directory}, an absolute path
   * on the SERVER's filesystem; ALREADY_EXISTS if the name is taken, DATA_LOSS naming the file
   * if the backup is damaged. Not retried; bounded by {@link Builder#buildDeadline}.
   */
  public Collection restoreCollection(String collection, String directory) {
    RestoreCollectionRequest request = RestoreCollectionRequest.newBuilder()
        .setName(name(collection)).setDirectory(directory).build();
    return await(invoke(false, buildDeadline, request,
        (d, q, o) -> collections.withDeadline(d).restoreCollection(q, o)));
  }

  // ---------------------------------------------------------------- operations

  /** One operation by name ({@code operations/build-index-1} or {@code build-index-1}). */
  public Operation getOperation(String operation) {
    GetOperationRequest request =
        GetOperationRequest.newBuilder().setName(operationName(operation)).build();
    return await(invoke(true, deadline, request,
        (d, q, o) -> operations.withDeadline(d).getOperation(q, o)));
  }

  /**
   * Operations newest first, all or (collection not null) one collection's, following the
   * server's page tokens to the end.
   */
  public List<Operation> listOperations(String collection) {
    ListOperationsRequest.Builder b = ListOperationsRequest.newBuilder().setPageSize(1000);
    if (collection != null) {
      b.setCollection(name(collection));
    }
    List<Operation> all = new ArrayList<>();
    while (true) {
      ListOperationsRequest request = b.build();
      ListOperationsResponse page = await(invoke(true, deadline, request,
          (d, q, o) -> operations.withDeadline(d).listOperations(q, o)));
      all.addAll(page.getOperationsList());
      if (page.getNextPageToken().isEmpty()) {
        return all;
      }
      b.setPageToken(page.getNextPageToken());
    }
  }

  /** Asks the operation to stop; returns it as it is right after (maybe still RUNNING). */
  public Operation cancelOperation(String operation) {
    CancelOperationRequest request =
        CancelOperationRequest.newBuilder().setName(operationName(operation)).build();
    return await(invoke(true, deadline, request,
        (d, q, o) -> operations.withDeadline(d).cancelOperation(q, o)));
  }

  /**
   * Waits until the operation is done or {@code max} has passed, with server-side waits of at
   * most {@code poll} each, calling {@code onUpdate} (if not null) with every state seen.
   *
   * @return the operation, done unless {@code max} passed first
   */
  public Operation awaitOperation(String operation, Duration max, Consumer<Operation> onUpdate) {
    return awaitOperation(operation, max, Duration.ofSeconds(1), onUpdate);
  }

  /** As {@link #awaitOperation(String, Duration, Consumer)}, with the poll interval chosen. */
  public Operation awaitOperation(String operation, Duration max, Duration poll,
      Consumer<Operation> onUpdate) {
    String name = operationName(operation);
    long end = System.nanoTime() + max.toNanos();
    Operation op = getOperation(name);
    while (true) {
      if (onUpdate != null) {
        onUpdate.accept(op);
      }
      long left = end - System.nanoTime();
      if (op.getDone() || left <= 0) {
        return op;
      }
      long waitMillis = Math.max(1, Math.min(poll.toMillis(), left / 1_000_000));
      WaitOperationRequest request = WaitOperationRequest.newBuilder().setName(name)
          .setTimeoutMillis(waitMillis).build();
      op = await(invoke(true, deadline.plusMillis(waitMillis), request,
          (d, q, o) -> operations.withDeadline(d).waitOperation(q, o)));
    }
  }

  /**
   * The BuildIndexResponse of a finished build operation.
   *
   * @throws CodebookException with the operation's error if it did not succeed, or
   *     DEADLINE_EXCEEDED if it is still running
   */
  public static BuildIndexResponse resultOf(Operation op) {
    switch (op.getState()) {
      case SUCCEEDED:
        return op.getBuildResult();
      case RUNNING:
        throw new CodebookException(Status.Code.DEADLINE_EXCEEDED, op.getName()
            + " is still running (" + op.getPhase() + "); wait longer or cancel it", 1, null);
      default:
        Status.Code code = op.hasError() ? Status.fromCodeValue(op.getError().getCode()).getCode()
            : Status.Code.UNKNOWN;
        throw new CodebookException(code, op.getName() + " " + op.getState() + ": "
            + op.getError().getMessage(), 1, null);
    }
  }

  private static String operationName(String operation) {
    Objects.requireNonNull(operation, "operation");
    return operation.startsWith(OPERATION_PREFIX) ? operation : OPERATION_PREFIX + operation;
  }

  // ---------------------------------------------------------------- vectors

  /** Called after each upsert batch the server acknowledged. */
  @FunctionalInterface
  public interface BatchListener {
    /**
     * @param batch the batch's number, from 0
     * @param acknowledged vectors acknowledged so far, this batch included
     * @param vectorCount live vectors in the collection after this batch
     */
    void acknowledged(int batch, long acknowledged, long vectorCount);
  }

  /** Upserts {@code records} in batches of {@link #batchSize()}. */
  public UpsertResult upsert(String collection, List<VectorRecord> records) {
    return await(upsertAsync(collection, records, batchSize, null));
  }

  /**
   * Upserts {@code records} in requests of at most {@code batchSize} vectors, one after the other
   * (so a later record for an id wins, as within one request). Each batch is retried on
   * UNAVAILABLE; a batch that fails for good fails the call, and the batches before it stay
   * written ({@code listener} has seen them).
   */
  public UpsertResult upsert(String collection, List<VectorRecord> records, int batchSize,
      BatchListener listener) {
    return await(upsertAsync(collection, records, batchSize, listener));
  }

  public CompletableFuture<UpsertResult> upsertAsync(String collection, List<VectorRecord> records) {
    return upsertAsync(collection, records, batchSize, null);
  }

  /** The async form of {@link #upsert(String, List, int, BatchListener)}. */
  public CompletableFuture<UpsertResult> upsertAsync(String collection, List<VectorRecord> records,
      int batchSize, BatchListener listener) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
    }
    if (records.isEmpty()) {
      throw new IllegalArgumentException("nothing to upsert: records is empty");
    }
    return upsertFrom(name(collection), records, batchSize, listener, 0,
        new UpsertResult(0, 0, 0, 0));
  }

  private CompletableFuture<UpsertResult> upsertFrom(String name, List<VectorRecord> records,
      int batchSize, BatchListener listener, int from, UpsertResult sofar) {
    int to = Math.min(records.size(), from + batchSize);
    UpsertVectorsRequest.Builder b = UpsertVectorsRequest.newBuilder().setCollection(name);
    for (int i = from; i < to; i++) {
      b.addVectors(records.get(i).toProto());
    }
    CompletableFuture<UpsertVectorsResponse> batch =
        invoke(true, deadline, b.build(), (d, q, o) -> vectors.withDeadline(d).upsertVectors(q, o));
    return batch.thenCompose(r -> {
      UpsertResult now = new UpsertResult(sofar.upserted() + r.getUpsertedCount(),
          sofar.replaced() + r.getReplacedCount(), r.getVectorCount(), sofar.batches() + 1);
      if (listener != null) {
        listener.acknowledged(sofar.batches(), now.upserted(), now.vectorCount());
      }
      return to < records.size()
          ? upsertFrom(name, records, batchSize, listener, to, now)
          : CompletableFuture.completedFuture(now);
    });
  }

  /**
   * Upserts {@code records} over one {@code StreamVectors} call in batches of {@code batchSize},
   * in order, calling {@code listener} after each batch the server acknowledged. The client
   * writes only while the stream is ready, so memory stays bounded however many records there
   * are (they are turned into messages as they are sent). If the stream fails with UNAVAILABLE
   * it is re-opened from the first unacknowledged record, up to {@link Builder#maxRetries} times
   * (upserts are idempotent by id). Any other failure fails the call; the acknowledged batches
   * stay written.
   */
  public UpsertResult streamUpsert(String collection, List<VectorRecord> records, int batchSize,
      BatchListener listener) {
    return await(streamUpsertAsync(collection, records, batchSize, listener));
  }

  /** The async form of {@link #streamUpsert}. */
  public CompletableFuture<UpsertResult> streamUpsertAsync(String collection,
      List<VectorRecord> records, int batchSize, BatchListener listener) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
    }
    if (records.isEmpty()) {
      throw new IllegalArgumentException("nothing to upsert: records is empty");
    }
    IngestStream s = new IngestStream(name(collection), records, batchSize, listener);
    s.open(1);
    return s.result;
  }

  /** One streamed upsert, re-opened from the first unacknowledged record on UNAVAILABLE. */
  private final class IngestStream {
    final CompletableFuture<UpsertResult> result = new CompletableFuture<>();
    private final String name;
    private final List<VectorRecord> records;
    private final int batchSize;
    private final BatchListener listener;
    private final Deadline deadline =
        Deadline.after(streamDeadline.toNanos(), TimeUnit.NANOSECONDS);
    // Written by one call's callbacks at a time (gRPC serializes them; retries start after).
    private int acknowledgedRecords;
    private long upserted;
    private long replaced;
    private long vectorCount;
    private int batches;

    IngestStream(String name, List<VectorRecord> records, int batchSize, BatchListener listener) {
      this.name = name;
      this.records = records;
      this.batchSize = batchSize;
      this.listener = listener;
    }

    void open(int attempt) {
      if (result.isDone()) {
        return;
      }
      int from = acknowledgedRecords;
      vectors.withDeadline(deadline).streamVectors(
          new ClientResponseObserver<StreamVectorsRequest, StreamVectorsResponse>() {
            private ClientCallStreamObserver<StreamVectorsRequest> out;
            private final java.util.ArrayDeque<Integer> inFlight = new java.util.ArrayDeque<>();
            private int next = from;
            private boolean halfClosed;

            @Override
            public void beforeStart(ClientCallStreamObserver<StreamVectorsRequest> call) {
              out = call;
              call.setOnReadyHandler(this::drain);
              result.whenComplete((v, t) -> {
                if (result.isCancelled()) {
                  call.cancel("cancelled by the caller", null);
                }
              });
            }

            /** Sends batches while the transport takes them; runs on each onReady. */
            private void drain() {
              while (!halfClosed && out.isReady() && next < records.size()) {
                int to = Math.min(records.size(), next + batchSize);
                StreamVectorsRequest.Builder b = StreamVectorsRequest.newBuilder();
                if (next == from) {
                  b.setCollection(name);
                }
                for (int i = next; i < to; i++) {
                  b.addVectors(records.get(i).toProto());
                }
                out.onNext(b.build());
                inFlight.add(to - next);
                next = to;
              }
              if (!halfClosed && next >= records.size()) {
                halfClosed = true;
                out.onCompleted();
              }
            }

            @Override
            public void onNext(StreamVectorsResponse ack) {
              Integer size = inFlight.poll();
              acknowledgedRecords += size == null ? 0 : size;
              upserted += ack.getUpsertedCount();
              replaced += ack.getReplacedCount();
              vectorCount = ack.getVectorCount();
              if (listener != null) {
                listener.acknowledged(batches, upserted, vectorCount);
              }
              batches++;
            }

            @Override
            public void onError(Throwable t) {
              Status status = Status.fromThrowable(t);
              if (status.getCode() == Status.Code.UNAVAILABLE && attempt <= maxRetries
                  && !result.isDone()) {
                channel.resetConnectBackoff();
                try {
                  retryTimer.schedule(() -> open(attempt + 1), backoffNanos(attempt),
                      TimeUnit.NANOSECONDS);
                  return;
                } catch (java.util.concurrent.RejectedExecutionException closed) {
                  // the client is closing: report the failure as it is
                }
              }
              result.completeExceptionally(CodebookException.of(status, attempt, t));
            }

            @Override
            public void onCompleted() {
              result.complete(new UpsertResult(upserted, replaced, vectorCount, batches));
            }
          });
    }
  }

  /** Deletes vectors by id; NOT_FOUND if any does not exist. Returns how many were deleted. */
  public long delete(String collection, List<String> ids) {
    return delete(collection, ids, false);
  }

  /**
   * Deletes vectors by id. With {@code allowMissing} unknown ids are skipped, which also makes the
   * call idempotent, so it is retried on UNAVAILABLE.
   */
  public long delete(String collection, List<String> ids, boolean allowMissing) {
    DeleteVectorsRequest request = DeleteVectorsRequest.newBuilder().setCollection(name(collection))
        .addAllIds(ids).setAllowMissing(allowMissing).build();
    DeleteVectorsResponse r = await(invoke(allowMissing, deadline, request,
        (d, q, o) -> vectors.withDeadline(d).deleteVectors(q, o)));
    return r.getDeletedCount();
  }

  /** Vectors by id, in the order asked, values as upserted; NOT_FOUND if any is missing. */
  public List<VectorRecord> get(String collection, List<String> ids) {
    GetVectorsRequest request =
        GetVectorsRequest.newBuilder().setCollection(name(collection)).addAllIds(ids).build();
    GetVectorsResponse r = await(invoke(true, deadline, request,
        (d, q, o) -> vectors.withDeadline(d).getVectors(q, o)));
    return r.getVectorsList().stream().map(VectorRecord::fromProto).toList();
  }

  // ---------------------------------------------------------------- search

  /** The neighbours of one query, best first. */
  public List<SearchHit> search(String collection, float[] query, SearchOptions options) {
    return search(collection, new float[][] {query}, options).get(0);
  }

  /** The neighbours of each query (in order), best first; one request. */
  public List<List<SearchHit>> search(String collection, float[][] queries, SearchOptions options) {
    return await(searchAsync(collection, queries, options));
  }

  public CompletableFuture<List<List<SearchHit>>> searchAsync(String collection,
      float[][] queries, SearchOptions options) {
    return searchAsync(searchRequest(collection, queries, options))
        .thenApply(CodebookClient::hits);
  }

  /**
   * Sends a request built beforehand with {@link #searchRequest} and returns the raw response:
   * for callers that send the same queries many times (a load generator) and should measure
   * the server, not the encoding of the queries. Retried like the other searches.
   */
  public CompletableFuture<SearchResponse> searchAsync(SearchRequest request) {
    Objects.requireNonNull(request, "request");
    return invoke(true, deadline, request, (d, q, o) -> search.withDeadline(d).search(q, o));
  }

  /** The request {@link #searchAsync(String, float[][], SearchOptions)} sends. */
  public static SearchRequest searchRequest(String collection, float[][] queries,
      SearchOptions options) {
    Objects.requireNonNull(options, "options");
    SearchRequest.Builder b = SearchRequest.newBuilder().setCollection(name(collection))
        .setTopK(options.topK()).setIncludeAttributes(options.includeAttributes());
    if (options.nprobe() != null) {
      b.setNprobe(options.nprobe());
    }
    if (options.rerank() != null) {
      b.setRerank(options.rerank());
    }
    if (options.filter() != null) {
      b.setFilter(options.filter().toProto());
    }
    for (float[] query : queries) {
      Query.Builder qb = Query.newBuilder();
      for (float x : query) {
        qb.addVector(x);
      }
      b.addQueries(qb);
    }
    return b.build();
  }

  private static List<List<SearchHit>> hits(SearchResponse r) {
    List<List<SearchHit>> out = new ArrayList<>(r.getResultsCount());
    for (QueryResult qr : r.getResultsList()) {
      List<SearchHit> hits = new ArrayList<>(qr.getNeighborsCount());
      for (Neighbor n : qr.getNeighborsList()) {
        hits.add(new SearchHit(n.getId(), n.getScore(), VectorRecord.attributes(n.getAttributesMap())));
      }
      out.add(hits);
    }
    return out;
  }

  // ---------------------------------------------------------------- plumbing

  /** Shuts the channel down, waiting up to five seconds for calls in flight. */
  @Override
  public void close() {
    retryTimer.shutdownNow();
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** "docs" or "collections/docs" to "collections/docs". */
  static String name(String collection) {
    Objects.requireNonNull(collection, "collection");
    return collection.startsWith(NAME_PREFIX) ? collection : NAME_PREFIX + collection;
  }

  /** One unary RPC started with a deadline. */
  @FunctionalInterface
  interface Rpc<Q, R> {
    void start(Deadline deadline, Q request, StreamObserver<R> observer);
  }

  /** Runs {@code rpc}, retrying it on UNAVAILABLE when {@code idempotent}. */
  private <Q, R> CompletableFuture<R> invoke(boolean idempotent, Duration perAttempt, Q request,
      Rpc<Q, R> rpc) {
    CompletableFuture<R> result = new CompletableFuture<>();
    attempt(result, idempotent, perAttempt, request, rpc, 1);
    return result;
  }

  private <Q, R> void attempt(CompletableFuture<R> result, boolean idempotent, Duration perAttempt,
      Q request, Rpc<Q, R> rpc, int attempt) {
    if (result.isDone()) {
      return; // cancelled by the caller while waiting to retry
    }
    try {
      rpc.start(Deadline.after(perAttempt.toNanos(), TimeUnit.NANOSECONDS), request,
          new ClientResponseObserver<Q, R>() {
            private R value;

            @Override
            public void beforeStart(ClientCallStreamObserver<Q> call) {
              result.whenComplete((v, t) -> {
                if (result.isCancelled()) {
                  call.cancel("cancelled by the caller", null);
                }
              });
            }

            @Override
            public void onNext(R r) {
              value = r;
            }

            @Override
            public void onError(Throwable t) {
              Status status = Status.fromThrowable(t);
              if (idempotent && status.getCode() == Status.Code.UNAVAILABLE
                  && attempt <= maxRetries && !result.isDone()) {
                channel.resetConnectBackoff();
                try {
                  retryTimer.schedule(
                      () -> attempt(result, idempotent, perAttempt, request, rpc, attempt + 1),
                      backoffNanos(attempt), TimeUnit.NANOSECONDS);
                  return;
                } catch (java.util.concurrent.RejectedExecutionException closed) {
                  // the client is closing: report the failure as it is
                }
              }
              result.completeExceptionally(CodebookException.of(status, attempt, t));
            }

            @Override
            public void onCompleted() {
              result.complete(value);
            }
          });
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
    }
  }

  /** Wait before retry {@code attempt} (1-based): half to all of the capped exponential. */
  long backoffNanos(int attempt) {
    long cap = initialBackoffNanos;
    for (int i = 1; i < attempt && cap < maxBackoffNanos; i++) {
      cap *= 2;
    }
    cap = Math.min(cap, maxBackoffNanos);
    return cap / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1);
  }

  /** Waits for {@code f}, rethrowing its failure on the caller's stack. */
  private static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new CodebookException(Status.Code.CANCELLED, "interrupted while waiting for the server",
          1, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof CodebookException ce) {
        throw new CodebookException(ce.code(), ce.description(), ce.attempts(), ce);
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(cause);
    }
  }

  /** Options of a {@link CodebookClient}; every one has a default. */
  public static final class Builder {
    private String target = DEFAULT_TARGET;
    private String apiKey;
    private Duration deadline = DEFAULT_DEADLINE;
    private Duration buildDeadline = DEFAULT_BUILD_DEADLINE;
    private Duration streamDeadline = DEFAULT_BUILD_DEADLINE;
    private int maxRetries = DEFAULT_MAX_RETRIES;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
    private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
    private boolean tls;
    private Path trustCertificates;
    private int maxInboundMessageSize = DEFAULT_MAX_INBOUND_MESSAGE_SIZE;
    private boolean directExecutor;
    private io.netty.channel.EventLoopGroup eventLoopGroup;
    private Class<? extends io.netty.channel.Channel> channelType;

    private Builder() {}

    /**
     * Runs the connection on {@code group} (a channel of {@code channelType}, e.g. {@code
     * EpollSocketChannel} for an epoll group) instead of gRPC's shared event loops. The caller
     * owns the group and shuts it down after closing the client. A load generator uses this to
     * send calls from the event loop itself, with no hand-off per call.
     */
    public Builder eventLoopGroup(io.netty.channel.EventLoopGroup group,
        Class<? extends io.netty.channel.Channel> channelType) {
      this.eventLoopGroup = Objects.requireNonNull(group, "group");
      this.channelType = Objects.requireNonNull(channelType, "channelType");
      return this;
    }

    /**
     * Completes futures on the transport's own threads instead of handing each response to a
     * thread pool (default: off). Saves a thread hand-off per call, which a load generator
     * sharing cores with the server wants; only for callers whose callbacks never block.
     */
    public Builder directExecutor(boolean directExecutor) {
      this.directExecutor = directExecutor;
      return this;
    }

    /** {@code host:port} (default {@value #DEFAULT_TARGET}); a bare host gets port 7300. */
    public Builder target(String target) {
      Objects.requireNonNull(target, "target");
      String t = target.strip();
      if (t.isEmpty()) {
        throw new IllegalArgumentException("target is empty: expected HOST:PORT");
      }
      boolean hasPort = t.startsWith("[") ? t.contains("]:") : t.contains(":");
      this.target = hasPort || t.contains("://") ? t : t + ":" + DEFAULT_TARGET.split(":")[1];
      return this;
    }

    /** Sent as {@code authorization: Bearer <key>} on every call; null for none. */
    public Builder apiKey(String apiKey) {
      this.apiKey = apiKey == null || apiKey.isEmpty() ? null : apiKey;
      return this;
    }

    /** Deadline of each attempt of a call (default 30 s). */
    public Builder deadline(Duration deadline) {
      this.deadline = positive("deadline", deadline);
      return this;
    }

    /** How long {@link CodebookClient#buildIndex} waits for the build (default 1 h). */
    public Builder buildDeadline(Duration buildDeadline) {
      this.buildDeadline = positive("buildDeadline", buildDeadline);
      return this;
    }

    /** Deadline of a whole {@link CodebookClient#streamUpsert} (default 1 h). */
    public Builder streamDeadline(Duration streamDeadline) {
      this.streamDeadline = positive("streamDeadline", streamDeadline);
      return this;
    }

    /** Retries of an idempotent call on UNAVAILABLE (default 5; 0 disables). */
    public Builder maxRetries(int maxRetries) {
      if (maxRetries < 0) {
        throw new IllegalArgumentException("maxRetries must be >= 0, got " + maxRetries);
      }
      this.maxRetries = maxRetries;
      return this;
    }

    /** Vectors per upsert request (default {@value #DEFAULT_BATCH_SIZE}). */
    public Builder batchSize(int batchSize) {
      if (batchSize <= 0) {
        throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
      }
      this.batchSize = batchSize;
      return this;
    }

    /** First retry waits up to this (default 100 ms); each later one up to twice as long. */
    public Builder initialBackoff(Duration initialBackoff) {
      this.initialBackoff = positive("initialBackoff", initialBackoff);
      return this;
    }

    /** The longest wait between retries (default 5 s). */
    public Builder maxBackoff(Duration maxBackoff) {
      this.maxBackoff = positive("maxBackoff", maxBackoff);
      return this;
    }

    /** Use TLS (default: plaintext, for loopback). */
    public Builder tls(boolean tls) {
      this.tls = tls;
      return this;
    }

    /** With TLS: PEM certificates to trust instead of the JVM's default trust store. */
    public Builder trustCertificates(Path pem) {
      this.trustCertificates = pem;
      this.tls = pem != null || tls;
      return this;
    }

    /** Largest response in bytes (default 64 MiB). */
    public Builder maxInboundMessageSize(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxInboundMessageSize must be positive, got " + bytes);
      }
      this.maxInboundMessageSize = bytes;
      return this;
    }

    public CodebookClient build() {
      return new CodebookClient(this);
    }

    private static Duration positive(String what, Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
      return d;
    }
  }
}
