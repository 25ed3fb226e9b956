package dev.codebook.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.api.v1.BuildIndexResponse;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.Metric;
import dev.codebook.index.vector.AnnBenchmarksHdf5;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.server.CodebookServer;
import dev.codebook.server.ServerConfig;
import io.grpc.Status;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The client against the real server on a free port, with the bundled sample's vectors. */
class CodebookClientTest {

  static final Path SAMPLE = Path.of("../samples/debian-minilm-5k.hdf5");
  static final int N = 1000;

  static CodebookServer server;
  static CodebookClient client;
  static FloatMatrix base;

  @BeforeAll
  static void start() throws Exception {
    server = CodebookServer.start(config(0));
    client = CodebookClient.builder().target("127.0.0.1:" + server.port())
        .deadline(Duration.ofSeconds(20)).maxRetries(3).batchSize(300).build();
    base = AnnBenchmarksHdf5.read(SAMPLE).train().head(N);
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  static ServerConfig config(int port) {
    return ServerConfig.defaults().withPort(port).withShutdownGrace(Duration.ofSeconds(5));
  }

  static List<VectorRecord> records(FloatMatrix m, String prefix) {
    List<VectorRecord> out = new ArrayList<>(m.rows());
    for (int i = 0; i < m.rows(); i++) {
      out.add(VectorRecord.of(prefix + i, m.row(i)));
    }
    return out;
  }

  @Test
  void collectionLifecycle() {
    Collection created = client.createCollection("life", base.dim(), Metric.COSINE, "IVF16,PQ48x4fs,RFlat");
    assertEquals("collections/life", created.getName());
    assertEquals(Collection.State.UNTRAINED, created.getState());

    List<long[]> acks = new ArrayList<>();
    UpsertResult r = client.upsert("life", records(base, "v"), 300,
        (batch, acknowledged, count) -> acks.add(new long[] {batch, acknowledged, count}));
    assertEquals(N, r.upserted());
    assertEquals(0, r.replaced());
    assertEquals(N, r.vectorCount());
    assertEquals(4, r.batches());
    assertEquals(4, acks.size());
    for (int b = 0; b < acks.size(); b++) {
      assertEquals(b, acks.get(b)[0]);
      assertEquals(Math.min(N, 300L * (b + 1)), acks.get(b)[1]);
    }
    assertEquals(N, client.getCollection("life").getVectorCount());
    assertTrue(client.listCollections().stream().anyMatch(c -> c.getName().equals("collections/life")));

    // Untrained: exact search, so a stored vector finds itself first.
    float[][] queries = {base.row(7), base.row(123), base.row(999)};
    List<List<SearchHit>> hits = client.search("life", queries, SearchOptions.topK(5));
    assertEquals(3, hits.size());
    assertEquals("v7", hits.get(0).get(0).id());
    assertEquals("v123", hits.get(1).get(0).id());
    assertEquals("v999", hits.get(2).get(0).id());
    assertEquals(5, hits.get(0).size());
    assertEquals(1.0f, hits.get(0).get(0).score(), 1e-4f);

    List<VectorRecord> got = client.get("collections/life", List.of("v3"));
    assertArrayEquals(base.row(3), got.get(0).values());

    BuildIndexResponse built = client.buildIndex("life", 42);
    assertEquals(Collection.State.READY, built.getCollection().getState());
    assertEquals(N, built.getCollection().getVectorCount());
    List<SearchHit> after = client.search("life", base.row(7),
        SearchOptions.topK(10).withNprobe(16).withRerank(4));
    assertEquals("v7", after.get(0).id());

    assertEquals(2, client.delete("life", List.of("v7", "v8")));
    assertEquals(0, client.delete("life", List.of("v7", "nope"), true));
    assertTrue(client.search("life", base.row(7), SearchOptions.topK(10)).stream()
        .noneMatch(h -> h.id().equals("v7")));
    assertEquals(N - 2, client.getCollection("life").getVectorCount());

    client.deleteCollection("life");
    CodebookException e = assertThrows(CodebookException.class, () -> client.getCollection("life"));
    assertEquals(Status.Code.NOT_FOUND, e.code());
    assertTrue(e.getMessage().startsWith("NOT_FOUND: "), e.getMessage());
  }

  @Test
  void searchWithFiltersBuiltInCodeOrText() {
    client.createCollection("filtered", base.dim(), Metric.COSINE, "Flat");
    try {
      List<VectorRecord> records = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        records.add(new VectorRecord("f" + i, base.row(i), Map.of(
            "lang", i % 2 == 0 ? "en" : "de",
            "year", 2000L + i % 30,
            "score", i / 10.0,
            "tags", i % 3 == 0 ? List.of("three") : List.of())));
      }
      client.upsert("filtered", records);
      SearchFilter code = Filters.eq("lang", "en").and(Filters.atLeast("year", 2020),
          Filters.contains("tags", "three").not());
      SearchFilter text = Filters.parse("lang = en AND year >= 2020 AND NOT tags CONTAINS three");
      for (SearchFilter f : List.of(code, text)) {
        List<SearchHit> hits = client.search("filtered", base.row(0),
            SearchOptions.topK(200).withFilter(f).withAttributes(true));
        List<String> want = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
          if (i % 2 == 0 && 2000 + i % 30 >= 2020 && i % 3 != 0) {
            want.add("f" + i);
          }
        }
        assertEquals(new java.util.TreeSet<>(want),
            new java.util.TreeSet<>(hits.stream().map(SearchHit::id).toList()), f.toString());
        for (SearchHit h : hits) {
          assertEquals("en", h.attributes().get("lang"));
          assertTrue((Long) h.attributes().get("year") >= 2020);
        }
      }
      List<SearchHit> ranged = client.search("filtered", base.row(0), SearchOptions.topK(200)
          .withFilter(Filters.range("score", 1.0, false, 2, true).or(Filters.in("year", 2001, 2002))));
      for (SearchHit h : ranged) {
        int i = Integer.parseInt(h.id().substring(1));
        assertTrue((i / 10.0 > 1.0 && i / 10.0 <= 2) || i % 30 == 1 || i % 30 == 2, h.id());
      }
      assertEquals(10 + 14, ranged.size());
      CodebookException bad = assertThrows(CodebookException.class, () -> client.search(
          "filtered", base.row(0), SearchOptions.topK(5).withFilter(Filters.eq("year", "2020"))));
      assertEquals(Status.Code.INVALID_ARGUMENT, bad.code());
      assertTrue(bad.getMessage().contains("filter.comparison"), bad.getMessage());
    } finally {
      client.deleteCollection("filtered");
    }
  }

  @Test
  void asyncSearchAndUpsert() throws Exception {
    client.createCollection("async", base.dim(), Metric.DOT_PRODUCT, "Flat");
    try {
      UpsertResult r = client.upsertAsync("async", records(base.head(250), "a"))
          .get(30, TimeUnit.SECONDS);
      assertEquals(250, r.upserted());
      assertEquals(1, r.batches());
      List<CompletableFuture<List<List<SearchHit>>>> fs = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        fs.add(client.searchAsync("async", new float[][] {base.row(i * 10)}, SearchOptions.topK(3)));
      }
      for (int i = 0; i < 8; i++) {
        assertEquals(3, fs.get(i).get(30, TimeUnit.SECONDS).get(0).size());
      }
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> client.searchAsync("async", new float[][] {{1, 2}}, SearchOptions.topK(3)).get());
      assertEquals(Status.Code.INVALID_ARGUMENT, ((CodebookException) e.getCause()).code());
    } finally {
      client.deleteCollection("async");
    }
  }

  @Test
  void errorsCarryTheStatus() {
    CodebookException dup = assertThrows(CodebookException.class, () -> {
      client.createCollection("dup", 4, Metric.EUCLIDEAN, "Flat");
      client.createCollection("dup", 4, Metric.EUCLIDEAN, "Flat");
    });
    assertEquals(Status.Code.ALREADY_EXISTS, dup.code());
    assertEquals(1, dup.attempts());
    CodebookException dim = assertThrows(CodebookException.class,
        () -> client.upsert("dup", List.of(VectorRecord.of("x", new float[3]))));
    assertEquals(Status.Code.INVALID_ARGUMENT, dim.code());
    client.upsert("dup", List.of(new VectorRecord("x", new float[] {1, 2, 3, 4},
        Map.of("tag", "a", "n", 3L, "ok", true, "tags", List.of("p", "q")))));
    assertEquals(Map.of("tag", "a", "n", 3L, "ok", true, "tags", List.of("p", "q")),
        client.get("dup", List.of("x")).get(0).attributes());
    client.deleteCollection("dup");
  }

  @Test
  void retriesUntilTheServerListens() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (CodebookClient late = CodebookClient.builder().target("127.0.0.1:" + port)
        .maxRetries(8).initialBackoff(Duration.ofMillis(100)).maxBackoff(Duration.ofSeconds(1))
        .deadline(Duration.ofSeconds(5)).build()) {
      CompletableFuture<List<Collection>> call = CompletableFuture.supplyAsync(late::listCollections);
      Thread.sleep(400);
      try (CodebookServer s = CodebookServer.start(config(port))) {
        assertEquals(List.of(), call.get(30, TimeUnit.SECONDS));
      }
    }
  }

  @Test
  void aStreamedUpsertIsRetriedUntilTheServerListens() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    dev.codebook.server.collection.CollectionRegistry registry =
        new dev.codebook.server.collection.CollectionRegistry();
    registry.create("late", base.dim(), dev.codebook.index.vector.Similarity.COSINE,
        dev.codebook.index.IndexSpec.parse("Flat"));
    try (CodebookClient late = CodebookClient.builder().target("127.0.0.1:" + port)
        .maxRetries(8).initialBackoff(Duration.ofMillis(100)).maxBackoff(Duration.ofSeconds(1))
        .build()) {
      List<Long> acks = new java.util.concurrent.CopyOnWriteArrayList<>();
      CompletableFuture<UpsertResult> call = late.streamUpsertAsync("late",
          records(base, "s"), 300, (b, acknowledged, count) -> acks.add(acknowledged));
      Thread.sleep(400);
      try (CodebookServer s = CodebookServer.start(config(port), registry)) {
        UpsertResult r = call.get(30, TimeUnit.SECONDS);
        assertEquals(N, r.upserted());
        assertEquals(N, r.vectorCount());
        assertEquals(N, acks.get(acks.size() - 1));
      }
    }
  }

  @Test
  void unavailableSurfacesAfterRetries() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    CodebookServer s = CodebookServer.start(config(port));
    try (CodebookClient c = CodebookClient.builder().target("127.0.0.1:" + port).maxRetries(2)
        .initialBackoff(Duration.ofMillis(20)).build()) {
      assertEquals(List.of(), c.listCollections());
      s.close();
      long t0 = System.nanoTime();
      CodebookException e = assertThrows(CodebookException.class, c::listCollections);
      assertEquals(Status.Code.UNAVAILABLE, e.code());
      assertEquals(3, e.attempts());
      assertTrue(e.getMessage().contains("after 3 attempts"), e.getMessage());
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
      // Not idempotent: tried once.
      CodebookException once = assertThrows(CodebookException.class,
          () -> c.createCollection("x", 4, Metric.COSINE, "Flat"));
      assertEquals(Status.Code.UNAVAILABLE, once.code());
      assertEquals(1, once.attempts());
    } finally {
      s.close();
    }
  }

  @Test
  void backoffGrowsAndIsCapped() {
    try (CodebookClient c = CodebookClient.builder().initialBackoff(Duration.ofMillis(100))
        .maxBackoff(Duration.ofMillis(800)).build()) {
      for (int i = 0; i < 50; i++) {
        long b1 = c.backoffNanos(1), b3 = c.backoffNanos(3), b10 = c.backoffNanos(10);
        assertTrue(b1 >= 50_000_000L && b1 <= 100_000_000L, "" + b1);
        assertTrue(b3 >= 200_000_000L && b3 <= 400_000_000L, "" + b3);
        assertTrue(b10 >= 400_000_000L && b10 <= 800_000_000L, "" + b10);
      }
    }
  }
}
