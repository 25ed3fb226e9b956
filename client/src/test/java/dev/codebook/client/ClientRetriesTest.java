package dev.codebook.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.codebook.api.v1.CollectionServiceGrpc;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.SearchServiceGrpc;
import dev.codebook.api.v1.StreamVectorsRequest;
import dev.codebook.api.v1.VectorServiceGrpc;
import dev.codebook.index.vector.AnnBenchmarksHdf5;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.server.CodebookServer;
import dev.codebook.server.ServerConfig;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * When the client repeats a call and when it does not, against the real server behind a
 * {@link FaultInjectingProxy}: the failures a network and a restarting server cause after a call
 * (or part of a stream) was already applied, and the codes that must not be retried.
 */
class ClientRetriesTest {

  static final int N = 1000;

  static CodebookServer server;
  static FloatMatrix base;
  FaultInjectingProxy proxy;
  CodebookClient client;

  @BeforeAll
  static void start() throws Exception {
    server = CodebookServer.start(
        ServerConfig.defaults().withPort(0).withShutdownGrace(Duration.ofSeconds(5)));
    base = AnnBenchmarksHdf5.readVectors(Path.of("../samples/debian-minilm-5k.hdf5"), "train")
        .head(N);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @BeforeEach
  void connect() throws Exception {
    proxy = new FaultInjectingProxy("127.0.0.1:" + server.port());
    client = CodebookClient.builder().target(proxy.target()).maxRetries(3)
        .initialBackoff(Duration.ofMillis(10)).deadline(Duration.ofSeconds(20)).build();
  }

  @AfterEach
  void disconnect() throws Exception {
    client.close();
    proxy.close();
  }

  static List<VectorRecord> records(String prefix) {
    List<VectorRecord> out = new ArrayList<>(N);
    for (int i = 0; i < N; i++) {
      out.add(VectorRecord.of(prefix + i, base.row(i)));
    }
    return out;
  }

  /** Every record is in the collection with its values, and nothing else is. */
  void assertHoldsExactly(String collection, List<VectorRecord> records) {
    assertEquals(records.size(), client.getCollection(collection).getVectorCount());
    List<VectorRecord> got = client.get(collection, records.stream().map(VectorRecord::id).toList());
    for (int i = 0; i < records.size(); i++) {
      assertArrayEquals(records.get(i).values(), got.get(i).values(), records.get(i).id());
    }
  }

  @Test
  void aStreamCutAfterTwoAcknowledgedBatchesIsReopenedAtTheThird() throws Exception {
    client.createCollection("cut", base.dim(), Metric.COSINE, "Flat");
    proxy.cutNextStreamAfter(VectorServiceGrpc.getStreamVectorsMethod(), 2);
    List<Long> acks = new ArrayList<>();
    List<VectorRecord> records = records("s");

    UpsertResult r = client.streamUpsert("cut", records, 100,
        (batch, acknowledged, count) -> acks.add(acknowledged));

    // Each record acknowledged once, in order, though the first stream died after two batches.
    List<Long> expected = new ArrayList<>();
    for (long a = 100; a <= N; a += 100) {
      expected.add(a);
    }
    assertEquals(expected, acks);
    assertEquals(N, r.upserted());
    assertEquals(N, r.vectorCount());
    List<FaultInjectingProxy.Call> streams =
        proxy.calls(VectorServiceGrpc.getStreamVectorsMethod());
    assertEquals(2, streams.size(), "one cut stream, one re-opened");
    StreamVectorsRequest first = StreamVectorsRequest.parseFrom(streams.get(1).requests.get(0));
    assertEquals("collections/cut", first.getCollection(), "the new stream names its collection");
    assertEquals("s200", first.getVectors(0).getId(),
        "the new stream starts at the first record not acknowledged");
    assertEquals(Status.Code.OK, streams.get(1).status.getCode());
    assertHoldsExactly("cut", records);
    client.deleteCollection("cut");
  }

  @Test
  void anUpsertAppliedWhoseAnswerWasLostIsRepeatedAndReplacesItself() {
    client.createCollection("lost", base.dim(), Metric.COSINE, "Flat");
    proxy.loseNextAnswer(VectorServiceGrpc.getUpsertVectorsMethod());
    List<VectorRecord> records = records("u").subList(0, 300);

    UpsertResult r = client.upsert("lost", records, 300, null);

    List<FaultInjectingProxy.Call> upserts =
        proxy.calls(VectorServiceGrpc.getUpsertVectorsMethod());
    assertEquals(2, upserts.size(), "the lost answer, then the repeat");
    assertEquals(Status.Code.UNAVAILABLE, upserts.get(0).status.getCode());
    assertEquals(300, r.upserted());
    assertEquals(300, r.replaced(), "the repeat replaced what the first attempt had written");
    assertEquals(300, r.vectorCount());
    assertHoldsExactly("lost", records);
    client.deleteCollection("lost");
  }

  @Test
  void aSafeCallIsNotRepeatedOnAnyCodeButUnavailable() {
    client.createCollection("codes", base.dim(), Metric.COSINE, "Flat");
    client.upsert("codes", records("c").subList(0, 10));
    float[] q = base.row(0);
    int seen = 0;
    for (Status.Code code : new Status.Code[] {Status.Code.RESOURCE_EXHAUSTED,
        Status.Code.DEADLINE_EXCEEDED, Status.Code.INTERNAL, Status.Code.ABORTED,
        Status.Code.CANCELLED, Status.Code.UNKNOWN, Status.Code.INVALID_ARGUMENT}) {
      proxy.failNext(SearchServiceGrpc.getSearchMethod(), Status.fromCode(code), 1);
      CodebookException e = assertThrows(CodebookException.class,
          () -> client.search("codes", q, SearchOptions.topK(1)));
      assertEquals(code, e.code());
      assertEquals(1, e.attempts(), code + " is not retried");
      seen += 1;
      assertEquals(seen, proxy.calls(SearchServiceGrpc.getSearchMethod()).size(), code.name());
    }
    // UNAVAILABLE is: the call goes through on the third attempt.
    proxy.failNext(SearchServiceGrpc.getSearchMethod(), Status.UNAVAILABLE, 2);
    assertEquals("c0", client.search("codes", q, SearchOptions.topK(1)).get(0).id());
    assertEquals(seen + 3, proxy.calls(SearchServiceGrpc.getSearchMethod()).size());
    client.deleteCollection("codes");
  }

  @Test
  void callsThatAreNotSafeToRepeatAreTriedOnceOnUnavailable() {
    client.createCollection("once", base.dim(), Metric.COSINE, "Flat");
    List<VectorRecord> records = records("o").subList(0, 200);
    client.upsert("once", records);
    Status unavailable = Status.UNAVAILABLE.withDescription("restarting (test)");

    proxy.failNext(CollectionServiceGrpc.getCreateCollectionMethod(), unavailable, 1);
    assertTriedOnce(() -> client.createCollection("other", 4, Metric.COSINE, "Flat"));
    proxy.failNext(CollectionServiceGrpc.getDeleteCollectionMethod(), unavailable, 1);
    assertTriedOnce(() -> client.deleteCollection("once"));
    proxy.failNext(CollectionServiceGrpc.getBuildIndexMethod(), unavailable, 1);
    assertTriedOnce(() -> client.startBuildIndex("once", 1));
    // A delete that must find its ids would fail with NOT_FOUND when repeated after it applied.
    proxy.failNext(VectorServiceGrpc.getDeleteVectorsMethod(), unavailable, 1);
    assertTriedOnce(() -> client.delete("once", List.of("o0")));
    assertEquals(2, proxy.calls(CollectionServiceGrpc.getCreateCollectionMethod()).size(),
        "the collection's own creation, then one attempt");
    assertEquals(1, proxy.calls(CollectionServiceGrpc.getDeleteCollectionMethod()).size());
    assertEquals(1, proxy.calls(CollectionServiceGrpc.getBuildIndexMethod()).size());
    assertEquals(200, client.getCollection("once").getVectorCount(), "nothing reached the server");

    // With allowMissing a delete is safe to repeat, and is.
    proxy.failNext(VectorServiceGrpc.getDeleteVectorsMethod(), unavailable, 1);
    assertEquals(1, client.delete("once", List.of("o0"), true));
    assertEquals(3, proxy.calls(VectorServiceGrpc.getDeleteVectorsMethod()).size());
    assertEquals(199, client.getCollection("once").getVectorCount());
    client.deleteCollection("once");
  }

  private static void assertTriedOnce(org.junit.jupiter.api.function.Executable call) {
    CodebookException e = assertThrows(CodebookException.class, call);
    assertEquals(Status.Code.UNAVAILABLE, e.code());
    assertEquals(1, e.attempts(), e.getMessage());
  }
}
