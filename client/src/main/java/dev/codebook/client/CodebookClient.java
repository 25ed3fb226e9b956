package dev.codebook.client;

import static dev.codebook.client.UnaryCalls.await;

import dev.codebook.api.v1.BackupCollectionResponse;
import dev.codebook.api.v1.BuildIndexResponse;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.Operation;
import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
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
 *
 * <p><b>Inside.</b> This class is the API; the work is done by one class per job: {@link
 * Connection} (channel, TLS, API key), {@link RetryPolicy} and {@link UnaryCalls} (retries with
 * backoff), and one class per service ({@link CollectionCalls}, {@link VectorCalls} with {@link
 * IngestStream} for the streamed upsert, {@link SearchCalls}, {@link OperationCalls}).
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

  private final String target;
  private final Connection connection;
  private final RetryPolicy retries;
  private final CollectionCalls collections;
  private final VectorCalls vectors;
  private final SearchCalls search;
  private final OperationCalls operations;
  private final Duration buildDeadline;
  private final Duration streamDeadline;
  private final int batchSize;

  private CodebookClient(Builder b) {
    this.target = b.target;
    this.buildDeadline = b.buildDeadline;
    this.streamDeadline = b.streamDeadline;
    this.batchSize = b.batchSize;
    this.retries = new RetryPolicy(b.maxRetries, b.initialBackoff, b.maxBackoff);
    this.connection = new Connection(b);
    UnaryCalls calls = new UnaryCalls(connection, retries);
    this.collections = new CollectionCalls(calls, connection, b.deadline, b.buildDeadline);
    this.vectors = new VectorCalls(calls, connection, b.deadline);
    this.search = new SearchCalls(calls, connection, b.deadline);
    this.operations = new OperationCalls(calls, connection, b.deadline);
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
    return collections.create(id, dimension, metric, indexSpec);
  }

  /** Returns one collection; NOT_FOUND if there is none of that name. */
  public Collection getCollection(String collection) {
    return await(getCollectionAsync(collection));
  }

  public CompletableFuture<Collection> getCollectionAsync(String collection) {
    return collections.get(collection);
  }

  /** Every collection, in name order (all pages). */
  public List<Collection> listCollections() {
    return collections.list();
  }

  /** Deletes a collection and its vectors; NOT_FOUND if there is none. Not retried. */
  public void deleteCollection(String collection) {
    collections.delete(collection);
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
    return collections.startBuild(collection, seed);
  }

  /**
   * Copies a consistent snapshot of a collection into {@code directory}, an absolute path on the
   * SERVER's filesystem that is missing or empty; writes may go on meanwhile. Not retried;
   * bounded by {@link Builder#buildDeadline} (a backup copies the whole collection).
   */
  public BackupCollectionResponse backupCollection(String collection, String directory) {
    return collections.backup(collection, directory);
  }

  /**
   * Creates collection {@code collection} from a backup in {@code directory}, an absolute path
   * on the SERVER's filesystem; ALREADY_EXISTS if the name is taken, DATA_LOSS naming the file
   * if the backup is damaged. Not retried; bounded by {@link Builder#buildDeadline}.
   */
  public Collection restoreCollection(String collection, String directory) {
    return collections.restore(collection, directory);
  }

  // ---------------------------------------------------------------- operations

  /** One operation by name ({@code operations/build-index-1} or {@code build-index-1}). */
  public Operation getOperation(String operation) {
    return operations.get(operation);
  }

  /**
   * Operations newest first, all or (collection not null) one collection's, following the
   * server's page tokens to the end.
   */
  public List<Operation> listOperations(String collection) {
    return operations.list(collection);
  }

  /** Asks the operation to stop; returns it as it is right after (maybe still RUNNING). */
  public Operation cancelOperation(String operation) {
    return operations.cancel(operation);
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
    return operations.awaitDone(operation, max, poll, onUpdate);
  }

  /**
   * The BuildIndexResponse of a finished build operation.
   *
   * @throws CodebookException with the operation's error if it did not succeed, or
   *     DEADLINE_EXCEEDED if it is still running
   */
  public static BuildIndexResponse resultOf(Operation op) {
    return OperationCalls.resultOf(op);
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
    return vectors.upsert(collection, records, batchSize, listener);
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
    return IngestStream.start(connection, retries, vectors.stub(), streamDeadline, collection,
        records, batchSize, listener);
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
    return vectors.delete(collection, ids, allowMissing);
  }

  /** Vectors by id, in the order asked, values as upserted; NOT_FOUND if any is missing. */
  public List<VectorRecord> get(String collection, List<String> ids) {
    return vectors.get(collection, ids);
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
    return search.search(collection, queries, options);
  }

  /**
   * Sends a request built beforehand with {@link #searchRequest} and returns the raw response:
   * for callers that send the same queries many times (a load generator) and should measure
   * the server, not the encoding of the queries. Retried like the other searches.
   */
  public CompletableFuture<SearchResponse> searchAsync(SearchRequest request) {
    return search.search(request);
  }

  /** The request {@link #searchAsync(String, float[][], SearchOptions)} sends. */
  public static SearchRequest searchRequest(String collection, float[][] queries,
      SearchOptions options) {
    return SearchCalls.request(collection, queries, options);
  }

  // ---------------------------------------------------------------- plumbing

  /** Shuts the channel down, waiting up to five seconds for calls in flight. */
  @Override
  public void close() {
    connection.close();
  }

  /** Wait before retry {@code attempt} (1-based): half to all of the capped exponential. */
  long backoffNanos(int attempt) {
    return retries.backoffNanos(attempt);
  }

  /** Options of a {@link CodebookClient}; every one has a default. */
  public static final class Builder {
    String target = DEFAULT_TARGET;
    String apiKey;
    Duration deadline = DEFAULT_DEADLINE;
    Duration buildDeadline = DEFAULT_BUILD_DEADLINE;
    Duration streamDeadline = DEFAULT_BUILD_DEADLINE;
    int maxRetries = DEFAULT_MAX_RETRIES;
    int batchSize = DEFAULT_BATCH_SIZE;
    Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
    Duration maxBackoff = DEFAULT_MAX_BACKOFF;
    boolean tls;
    Path trustCertificates;
    int maxInboundMessageSize = DEFAULT_MAX_INBOUND_MESSAGE_SIZE;
    boolean directExecutor;
    io.netty.channel.EventLoopGroup eventLoopGroup;
    Class<? extends io.netty.channel.Channel> channelType;

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
