package dev.codebook.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.codebook.api.v1.BuildIndexRequest;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.Operation;
import dev.codebook.api.v1.OperationServiceGrpc;
import dev.codebook.api.v1.WaitOperationRequest;
import dev.codebook.api.v1.CollectionServiceGrpc;
import dev.codebook.api.v1.CreateCollectionRequest;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.Query;
import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.api.v1.SearchServiceGrpc;
import dev.codebook.api.v1.UpsertVectorsRequest;
import dev.codebook.api.v1.Vector;
import dev.codebook.api.v1.VectorServiceGrpc;
import dev.codebook.index.vector.AnnBenchmarksHdf5;
import dev.codebook.index.vector.AnnDataset;
import dev.codebook.index.vector.FloatMatrix;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.function.Executable;

/** A real server on a free port, a plaintext channel to it over loopback, and the sample data. */
final class ServerTestSupport {

  static final Path SAMPLE = Path.of("../samples/debian-minilm-5k.hdf5");

  private static AnnDataset sample;

  private ServerTestSupport() {}

  /** The bundled debian-minilm-5k sample (5,000 x 384, angular), read once. */
  static synchronized AnnDataset sample() {
    if (sample == null) {
      try {
        sample = AnnBenchmarksHdf5.read(SAMPLE);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return sample;
  }

  static ServerConfig testConfig() {
    return ServerConfig.defaults().withPort(0).withShutdownGrace(java.time.Duration.ofSeconds(10));
  }

  /** A plaintext channel to {@code server}, accepting responses up to 64 MiB. */
  static ManagedChannel channel(CodebookServer server) {
    return NettyChannelBuilder.forAddress("localhost", server.port())
        .usePlaintext()
        .maxInboundMessageSize(64 << 20)
        .build();
  }

  static void close(ManagedChannel channel) throws InterruptedException {
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
  }

  /** Clients of the three data services over one channel. */
  record Stubs(CollectionServiceGrpc.CollectionServiceBlockingStub collections,
      VectorServiceGrpc.VectorServiceBlockingStub vectors,
      SearchServiceGrpc.SearchServiceBlockingStub search,
      OperationServiceGrpc.OperationServiceBlockingStub operations) {
    static Stubs of(ManagedChannel ch) {
      return new Stubs(CollectionServiceGrpc.newBlockingStub(ch),
          VectorServiceGrpc.newBlockingStub(ch), SearchServiceGrpc.newBlockingStub(ch),
          OperationServiceGrpc.newBlockingStub(ch));
    }
  }

  /** Starts BuildIndex and waits for its operation to finish; returns the final operation. */
  static Operation buildAndWait(Stubs s, String collection, long seed) {
    Operation op = s.collections().buildIndex(
        BuildIndexRequest.newBuilder().setName(collection).setSeed(seed).build());
    while (!op.getDone()) {
      op = s.operations().waitOperation(WaitOperationRequest.newBuilder().setName(op.getName())
          .setTimeoutMillis(10_000).build());
    }
    return op;
  }

  static Collection create(Stubs s, String id, int dim, Metric metric, String spec) {
    return s.collections().createCollection(CreateCollectionRequest.newBuilder()
        .setCollectionId(id)
        .setCollection(Collection.newBuilder().setDimension(dim).setMetric(metric)
            .setIndexSpec(spec))
        .build());
  }

  static Vector vector(String id, float[] values) {
    Vector.Builder b = Vector.newBuilder().setId(id);
    for (float x : values) {
      b.addValues(x);
    }
    return b.build();
  }

  static Query query(float[] values) {
    Query.Builder b = Query.newBuilder();
    for (float x : values) {
      b.addVector(x);
    }
    return b.build();
  }

  /** Upserts rows {@code [from, to)} of {@code m} with ids "0", "1", ... by row number. */
  static void upsertRows(Stubs s, String collection, FloatMatrix m, int from, int to) {
    int batch = 1000;
    for (int b = from; b < to; b += batch) {
      UpsertVectorsRequest.Builder r = UpsertVectorsRequest.newBuilder().setCollection(collection);
      for (int i = b; i < Math.min(to, b + batch); i++) {
        r.addVectors(vector(Integer.toString(i), m.row(i)));
      }
      s.vectors().upsertVectors(r.build());
    }
  }

  /** A search request for rows {@code [from, to)} of {@code queries}. */
  static SearchRequest.Builder searchRequest(String collection, FloatMatrix queries, int from,
      int to, int k) {
    SearchRequest.Builder r = SearchRequest.newBuilder().setCollection(collection).setTopK(k);
    for (int i = from; i < to; i++) {
      r.addQueries(query(queries.row(i)));
    }
    return r;
  }

  /** Result ids of one query as ints (the tests use row numbers as ids). */
  static int[] ids(SearchResponse r, int query) {
    return r.getResults(query).getNeighborsList().stream()
        .mapToInt(n -> Integer.parseInt(n.getId())).toArray();
  }

  /** Fraction of {@code expected[q]} (first k) found in {@code got[q]}, over all queries. */
  static double recall(int[][] expected, int[][] got, int k) {
    long hit = 0, total = 0;
    for (int q = 0; q < expected.length; q++) {
      List<Integer> truth = java.util.Arrays.stream(expected[q]).limit(k).boxed().toList();
      for (int id : got[q]) {
        if (truth.contains(id)) {
          hit++;
        }
      }
      total += Math.min(k, expected[q].length);
    }
    return (double) hit / total;
  }

  /**
   * Runs {@code call}, expects a status {@code code}, and returns the exception. When {@code
   * field} is not null, the status must carry a BadRequest field violation for it and an
   * ErrorInfo.
   */
  static StatusRuntimeException assertStatus(Status.Code code, String field, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), () -> "status: " + e.getStatus());
    assertNotNull(e.getStatus().getDescription(), "a message a person can act on");
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    assertNotNull(details, "google.rpc.Status details");
    assertNotNull(unpack(details, ErrorInfo.class), "ErrorInfo");
    if (field != null) {
      BadRequest br = unpack(details, BadRequest.class);
      assertNotNull(br, "BadRequest for " + field);
      assertEquals(field, br.getFieldViolations(0).getField(), e.getStatus().toString());
      assertTrue(br.getFieldViolations(0).getDescription().length() > 0);
    }
    return e;
  }

  static <T extends com.google.protobuf.Message> T unpack(com.google.rpc.Status s, Class<T> type) {
    for (Any a : s.getDetailsList()) {
      if (a.is(type)) {
        try {
          return a.unpack(type);
        } catch (InvalidProtocolBufferException e) {
          throw new AssertionError(e);
        }
      }
    }
    return null;
  }
}
