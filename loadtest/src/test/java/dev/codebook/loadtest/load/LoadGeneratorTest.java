package dev.codebook.loadtest.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.api.v1.Collection;
import dev.codebook.client.CodebookClient;
import dev.codebook.client.SearchHit;
import dev.codebook.client.SearchOptions;
import dev.codebook.index.vector.AnnBenchmarksHdf5;
import dev.codebook.index.vector.AnnDataset;
import dev.codebook.server.CodebookServer;
import dev.codebook.server.ServerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The load generator against the real server on a free port, loaded with the bundled sample
 * through {@link CollectionLoader} (the {@code --load} path).
 */
class LoadGeneratorTest {

  static final Path SAMPLE = Path.of("../samples/debian-minilm-5k.hdf5");
  static final String SPEC = "IVF16,PQ48x4fs,RFlat";
  static final SearchOptions NPROBE_4 = SearchOptions.topK(10).withNprobe(4).withRerank(2);

  static CodebookServer server;
  static CodebookClient client;
  static AnnDataset sample;
  static Collection loaded;

  @BeforeAll
  static void start() throws Exception {
    server = CodebookServer.start(
        ServerConfig.defaults().withPort(0).withShutdownGrace(Duration.ofSeconds(5)));
    client = CodebookClient.builder().target("127.0.0.1:" + server.port())
        .deadline(Duration.ofSeconds(30)).maxRetries(0).build();
    sample = AnnBenchmarksHdf5.read(SAMPLE);
    List<String> progress = new ArrayList<>();
    loaded = new CollectionLoader(client, progress::add).load("sample", sample.train(),
        sample.similarity(), SPEC, "row-", 1000, 0, false).collection();
    assertTrue(progress.stream().anyMatch(l -> l.startsWith("built " + SPEC)), "" + progress);
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  static QueryPlan plan(int batch) {
    return new QueryPlan("sample", sample.test(), batch, NPROBE_4, sample.neighbors(),
        RowIds.prefixed("row-"));
  }

  static LoadGenerator generator(QueryPlan plan, double warmup, double duration, long max,
      List<String> progress) {
    return new LoadGenerator(client::searchAsync, plan, new LoadGenerator.Settings(
        Duration.ofMillis((long) (warmup * 1000)), Duration.ofMillis((long) (duration * 1000)), max,
        10_000), progress::add);
  }

  @Test
  void loadCreatesTheCollectionUploadsEveryTrainRowAndBuildsIt() {
    assertEquals(Collection.State.READY, loaded.getState());
    assertEquals(sample.train().rows(), loaded.getVectorCount());
    assertEquals(SPEC, loaded.getIndexSpec());
    IllegalArgumentException again = org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> new CollectionLoader(client, l -> {}).load("sample",
            sample.train().head(10), sample.similarity(), SPEC, "row-", 5, 0, false));
    assertTrue(again.getMessage().contains("--replace"), again.getMessage());
  }

  /**
   * Hits in the top 10 of each test query searched once with {@code options}, scored
   * independently of {@link LevelRecall}.
   */
  static int[] hitsPerQuery(SearchOptions options) {
    List<List<SearchHit>> hits = client.search("sample", rows(0, sample.test().rows()), options);
    int[] found = new int[hits.size()];
    for (int q = 0; q < hits.size(); q++) {
      Set<Integer> truth = new HashSet<>();
      for (int j = 0; j < 10; j++) {
        truth.add(sample.neighbors().get(q, j));
      }
      for (SearchHit h : hits.get(q)) {
        if (truth.contains(Integer.parseInt(h.id().substring("row-".length())))) {
          found[q]++;
        }
      }
    }
    return found;
  }

  /** Recall@10 of every test query searched once with {@code options}. */
  static double recallOf(SearchOptions options) {
    return java.util.Arrays.stream(hitsPerQuery(options)).sum()
        / (10.0 * sample.test().rows());
  }

  @Test
  void closedLoopRecallEqualsSearchingEveryQueryOnceAndHasNoErrors() throws Exception {
    double expected = recallOf(NPROBE_4);

    QueryPlan plan = plan(1);
    List<String> progress = new ArrayList<>();
    // bounded by count, so every query is sent however slow the machine is
    LoadGenerator.Level level = generator(plan, 0.2, 60, 400, progress).closedLoop(3);

    assertEquals(sample.test().rows(), level.recall().queries(), "every query answered");
    assertEquals(0, level.recall().failedQueries());
    assertEquals(expected, level.recall().recallAt10(), 1e-12);
    assertTrue(expected > 0.3, "" + expected);
    assertEquals(Map.of(), level.stats().errors());
    assertEquals(level.sent(), level.stats().calls(), "every measured call answered");
    assertTrue(level.qps() > 0);
    assertEquals(3, level.concurrency());
    double p50 = level.stats().latencyMs(50), p99 = level.stats().latencyMs(99);
    assertTrue(p50 > 0 && p50 <= p99 && p99 <= level.stats().latencyMs(99.9)
        && level.stats().latencyMs(99.9) <= level.stats().maxMs(), p50 + " " + p99);
    assertEquals(400, level.sent());
  }

  /**
   * Two levels sharing one plan, the first searched at nprobe 1 and the second at nprobe 16 (a
   * searcher that sets it on each call): each reports the recall of its own answers, which is
   * what searching every query once at its nprobe gives. Scored across levels (or from the
   * first answer a plan ever got, as the JIT warm-up's would be), the second would report the
   * first's.
   */
  @Test
  void eachLevelReportsTheRecallOfItsOwnAnswersAtItsOwnNprobe() throws Exception {
    double narrow = recallOf(NPROBE_4.withNprobe(1));
    double wide = recallOf(NPROBE_4.withNprobe(16));
    assertTrue(wide > narrow + 0.05, "nprobe 16 finds more than nprobe 1: " + wide + " vs "
        + narrow);

    QueryPlan plan = plan(1);
    LoadGenerator.Settings settings = new LoadGenerator.Settings(Duration.ofMillis(100),
        Duration.ofSeconds(60), 200, 10_000); // 200 calls: each query exactly once
    LoadGenerator.Level first = new LoadGenerator(nprobe(1), plan, settings, l -> {})
        .closedLoop(2);
    LoadGenerator.Level second = new LoadGenerator(nprobe(16), plan, settings, l -> {})
        .closedLoop(2);

    assertEquals(200, first.recall().queries());
    assertEquals(200, second.recall().queries());
    assertEquals(narrow, first.recall().recallAt10(), 1e-12);
    assertEquals(wide, second.recall().recallAt10(), 1e-12);
  }

  /**
   * A level's warm-up answers are not scored: here the first calls of the warm-up fail and the
   * next ones come back empty, and the measured phase (well after them) still reports the
   * recall of real answers, with no query counted as failed.
   */
  @Test
  void answersToTheWarmUpAreNotScored() throws Exception {
    double expected = recallOf(NPROBE_4);
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    Searcher badAtFirst = r -> {
      int n = calls.getAndIncrement();
      if (n < 10) {
        return java.util.concurrent.CompletableFuture.failedFuture(
            io.grpc.Status.UNAVAILABLE.withDescription("warming").asRuntimeException());
      }
      if (n < 20) {
        dev.codebook.api.v1.SearchResponse.Builder empty =
            dev.codebook.api.v1.SearchResponse.newBuilder();
        for (int q = 0; q < r.getQueriesCount(); q++) {
          empty.addResults(dev.codebook.api.v1.QueryResult.getDefaultInstance());
        }
        return java.util.concurrent.CompletableFuture.completedFuture(empty.build());
      }
      return client.searchAsync(r);
    };
    // 20 calls take milliseconds; the warm-up lasts a second
    LoadGenerator.Level level = new LoadGenerator(badAtFirst, plan(1), new LoadGenerator.Settings(
        Duration.ofSeconds(1), Duration.ofSeconds(60), 200, 10_000), l -> {}).closedLoop(2);

    assertTrue(calls.get() > 220, "the warm-up went past its bad calls: " + calls.get());
    assertEquals(Map.of(), level.stats().errors(), "the failures were in the warm-up");
    assertEquals(200, level.recall().queries());
    assertEquals(0, level.recall().failedQueries());
    assertEquals(expected, level.recall().recallAt10(), 1e-12);
  }

  /**
   * A level whose calls fail counts their queries as misses: here every query whose test row is
   * a multiple of 4 fails (UNAVAILABLE), and the recall is that of the other answers over all
   * 200 queries, with the 50 failed ones reported beside it.
   */
  @Test
  void failedQueriesCountAsMisses() throws Exception {
    int[] hits = hitsPerQuery(NPROBE_4);
    long kept = 0;
    for (int q = 0; q < hits.length; q++) {
      kept += q % 4 == 0 ? 0 : hits[q];
    }
    double expected = kept / (10.0 * hits.length);

    QueryPlan plan = plan(1);
    java.util.Map<dev.codebook.api.v1.SearchRequest, Integer> rowOf =
        new java.util.IdentityHashMap<>();
    for (int c = 0; c < plan.calls(); c++) {
      rowOf.put(plan.request(c), c); // batch 1: call c is test row c
    }
    Searcher failsEveryFourthRow = r -> rowOf.get(r) % 4 == 0
        ? java.util.concurrent.CompletableFuture.failedFuture(
            io.grpc.Status.UNAVAILABLE.withDescription("shed").asRuntimeException())
        : client.searchAsync(r);
    LoadGenerator.Level level = new LoadGenerator(failsEveryFourthRow, plan,
        new LoadGenerator.Settings(Duration.ZERO, Duration.ofSeconds(60), 200, 10_000), l -> {})
        .closedLoop(2);

    assertEquals(Map.of("UNAVAILABLE", 50L), level.stats().errors());
    assertEquals(200, level.recall().queries());
    assertEquals(50, level.recall().failedQueries());
    assertEquals(expected, level.recall().recallAt10(), 1e-12);
    assertTrue(expected < recallOf(NPROBE_4) - 0.1, "the misses cost recall: " + expected);
  }

  /** Sends each call with {@code nprobe} in place of the plan's. */
  static Searcher nprobe(int nprobe) {
    return r -> client.searchAsync(r.toBuilder().setNprobe(nprobe).build());
  }

  @Test
  void maxRequestsBoundsAClosedLoopExactly() throws Exception {
    QueryPlan plan = plan(4);
    LoadGenerator.Level level = generator(plan, 0, 30, 37, new ArrayList<>()).closedLoop(5);
    assertEquals(37, level.sent());
    assertEquals(37, level.stats().calls());
    assertEquals(37 * 4, level.stats().queries());
    assertTrue(level.seconds() < 30, "stopped by the count, not the clock: " + level.seconds());
  }

  @Test
  void cpuTimeOfTheGeneratorAndOfAServerProcessIsReportedPerCall() throws Exception {
    QueryPlan plan = plan(1);
    // the server runs in this JVM here, so "its" pid is ours: both clocks must advance
    LoadGenerator.Level level = new LoadGenerator(client::searchAsync, plan,
        new LoadGenerator.Settings(Duration.ZERO, Duration.ofMillis(600), 0, 100), l -> {},
        LoadGenerator.processCpu(ProcessHandle.current().pid())).closedLoop(2);
    assertTrue(level.clientCpuSeconds() > 0, "" + level.clientCpuSeconds());
    assertTrue(level.serverCpuSeconds() > 0, "" + level.serverCpuSeconds());
    assertTrue(level.clientCpuMicrosPerCall() > 0 && level.clientCpuMicrosPerCall() < 1e6);
    LoadGenerator.Level unknown = generator(plan, 0, 0.2, 0, new ArrayList<>()).closedLoop(1);
    assertTrue(Double.isNaN(unknown.serverCpuSeconds()));
  }

  @Test
  void openLoopSendsExactlyTheCallsItsTimetableHolds() throws Exception {
    QueryPlan plan = plan(1);
    LoadGenerator.Level level = generator(plan, 0.25, 1.0, 0, new ArrayList<>()).openLoop(300);
    // 300/s for 1 s measured; the warm-up's 75 calls are not counted
    assertEquals(300, level.sent());
    assertEquals(300, level.stats().calls());
    assertEquals(Map.of(), level.stats().errors());
    assertTrue(level.seconds() >= 0.99 && level.seconds() < 3, "" + level.seconds());
    assertTrue(level.qps() > 100 && level.qps() <= 305, "" + level.qps());

    LoadGenerator.Level bounded = generator(plan, 0, 10, 25, new ArrayList<>()).openLoop(500);
    assertEquals(25, bounded.sent());
    assertEquals(25, bounded.stats().calls());
    assertTrue(bounded.seconds() < 2, "" + bounded.seconds());
  }

  @Test
  void openLoopSentFromTwoConnectionsEventLoopsKeepsTheTimetableAndUsesBoth() throws Exception {
    QueryPlan plan = plan(1);
    io.netty.channel.EventLoopGroup loops = new io.netty.channel.MultiThreadIoEventLoopGroup(2,
        io.netty.channel.nio.NioIoHandler.newFactory());
    java.util.concurrent.atomic.AtomicInteger[] sent = {
        new java.util.concurrent.atomic.AtomicInteger(),
        new java.util.concurrent.atomic.AtomicInteger()};
    List<CodebookClient> clients = new ArrayList<>();
    try {
      List<LoadGenerator.Sender> senders = new ArrayList<>();
      for (int c = 0; c < 2; c++) {
        io.netty.channel.EventLoop loop = loops.next();
        CodebookClient cc = CodebookClient.builder().target("127.0.0.1:" + server.port())
            .deadline(Duration.ofSeconds(30)).maxRetries(0).directExecutor(true)
            .eventLoopGroup(loop, io.netty.channel.socket.nio.NioSocketChannel.class).build();
        clients.add(cc);
        java.util.concurrent.atomic.AtomicInteger n = sent[c];
        senders.add(new LoadGenerator.Sender(r -> {
          assertTrue(loop.inEventLoop(), "sent from the connection's own loop");
          n.incrementAndGet();
          return cc.searchAsync(r);
        }, loop));
      }
      LoadGenerator.Level level = new LoadGenerator(senders, plan, new LoadGenerator.Settings(
          Duration.ofMillis(200), Duration.ofSeconds(1), 0, 10_000), l -> {}, () -> -1)
          .openLoop(400);
      assertEquals(400, level.sent());
      assertEquals(400, level.stats().calls());
      assertEquals(Map.of(), level.stats().errors());
      // 80 warm-up calls and 400 measured, alternating between the connections
      assertEquals(240, sent[0].get());
      assertEquals(240, sent[1].get());
      assertTrue(level.recall().recallAt10() > 0.5, "" + level.recall().recallAt10()); // scored
    } finally {
      clients.forEach(CodebookClient::close);
      loops.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
    }
  }

  /**
   * A really slow server: one search thread, exact search, many queries per call. The open loop
   * asks for twice what it can answer with one call in flight at a time, so each call leaves
   * later than its slot. Measured from the slot, the latency grows with the backlog; measured
   * from the send (what a naive generator reports) it stays at the service time.
   */
  @Test
  void openLoopChargesTheWaitForASlowServerToTheCallsItDelayed() throws Exception {
    try (CodebookServer slow = CodebookServer.start(ServerConfig.defaults().withPort(0)
            .withSearchThreads(1).withShutdownGrace(Duration.ofSeconds(5)));
        CodebookClient c = CodebookClient.builder().target("127.0.0.1:" + slow.port())
            .maxRetries(0).build()) {
      new CollectionLoader(c, l -> {}).load("flat", sample.train(), sample.similarity(), "Flat",
          "", 1000, 0, false);
      QueryPlan plan = new QueryPlan("flat", sample.test(), 100, SearchOptions.topK(10),
          sample.neighbors(), RowIds.prefixed(""));
      LoadGenerator.Settings closed = new LoadGenerator.Settings(Duration.ofMillis(300),
          Duration.ofSeconds(30), 20, 1);
      LoadGenerator.Level service =
          new LoadGenerator(c::searchAsync, plan, closed, l -> {}).closedLoop(1);
      double serviceMs = service.stats().latencyMs(50);
      assertEquals(1.0, service.recall().recallAt10(), "exact search");

      int calls = 30;
      double rate = 2000 / serviceMs; // twice the capacity
      LoadGenerator.Settings open = new LoadGenerator.Settings(Duration.ZERO,
          Duration.ofSeconds(30), calls, 1); // one call in flight: later ones wait for a slot
      LoadGenerator.Level level = new LoadGenerator(c::searchAsync, plan, open, l -> {})
          .openLoop(rate);
      LatencyStats s = level.stats();
      assertEquals(calls, s.calls());
      assertTrue(s.lateSends() >= calls / 2, "most calls left after their slot: " + s.lateSends());
      // call i is due at i*S/2 and answered near (i+1)*S: charged about (i/2+1)*S
      assertTrue(s.maxMs() > calls / 4.0 * serviceMs,
          "max " + s.maxMs() + " ms vs service " + serviceMs + " ms");
      assertTrue(s.latencyMs(99) > 3 * s.serviceMs(99),
          "corrected p99 " + s.latencyMs(99) + " vs from-send p99 " + s.serviceMs(99));
      assertTrue(s.serviceMs(50) < 5 * serviceMs,
          "from the send it looks like the service time: " + s.serviceMs(50) + " vs " + serviceMs);
    }
  }

  private static float[][] rows(int from, int to) {
    float[][] q = new float[to - from][];
    for (int i = from; i < to; i++) {
      q[i - from] = sample.test().row(i);
    }
    return q;
  }
}
