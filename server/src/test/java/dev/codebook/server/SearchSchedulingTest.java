package dev.codebook.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.api.v1.SearchServiceGrpc;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.server.search.SearchScheduler;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How searches share the search threads: single-query calls that queue up behind each other are
 * searched as one batch, a call with many queries on an idle server is spread over the idle
 * threads, and every call still gets exactly the answer it would have got alone.
 */
class SearchSchedulingTest {

  private static final int CALLS = 96;

  @Test
  void queuedCallsOnAnExactCollectionAreSearchedTogetherWithTheirOwnAnswers() throws Exception {
    check("Flat", false, 0);
  }

  @Test
  void queuedCallsOnAnIvfPqIndexAreSearchedTogetherWithTheirOwnAnswers() throws Exception {
    check("IVF64,PQ48x4fs,RFlat", true, 8);
  }

  /**
   * Over 1,024 lists, where the coarse probe pre-selects at small nprobe (1 and 16 here) and
   * scores every centroid above (24), and a merged batch puts a call's query at any position:
   * still each call's own answer.
   */
  @Test
  void queuedCallsOnAThousandListIndexGetTheAnswersTheyGetAloneAtEveryProbeKind()
      throws Exception {
    check("IVF1024,PQ48x4fs,RFlat", true, 1, 16, 24);
  }

  /**
   * Answers {@link #CALLS} queries one call at a time, then sends them again all at once while
   * the only search thread is busy with a long call, so they queue; every eighth asks for a
   * different top_k, which must not be merged with its neighbours.
   */
  private static void check(String spec, boolean build, int... nprobes) throws Exception {
    ServerConfig config = ServerTestSupport.testConfig().toBuilder()
        .searchThreads(1).metricsPort(0).build();
    try (CodebookServer server = CodebookServer.start(config)) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      try {
        ServerTestSupport.Stubs stubs = ServerTestSupport.Stubs.of(ch);
        String name = loadSample(stubs, spec, build);
        for (int nprobe : nprobes) {
          check(server, ch, stubs, name, nprobe);
        }
      } finally {
        ServerTestSupport.close(ch);
      }
    }
  }

  private static void check(CodebookServer server, ManagedChannel ch,
      ServerTestSupport.Stubs stubs, String name, int nprobe) throws Exception {
    double mergedBefore = merged(server);
    FloatMatrix test = ServerTestSupport.sample().test();
    List<SearchRequest> singles = new ArrayList<>();
    for (int i = 0; i < CALLS; i++) {
      // Every eighth call asks for a top_k of its own (11, 12, ...), so it can join no other
      // call whatever order the calls reach the queue in.
      SearchRequest.Builder r = ServerTestSupport.searchRequest(name, test, i, i + 1,
          i % 8 == 7 ? 11 + i / 8 : 10);
      if (nprobe > 0) {
        r.setNprobe(nprobe).setRerank(4);
      }
      singles.add(r.build());
    }
    int[][] alone = new int[CALLS][];
    for (int i = 0; i < CALLS; i++) {
      alone[i] = ServerTestSupport.ids(stubs.search().search(singles.get(i)), 0);
    }
    assertEquals(mergedBefore, merged(server), "one call at a time: nothing to merge");

    SearchServiceGrpc.SearchServiceStub async = SearchServiceGrpc.newStub(ch);
    // Hold the one search thread: every test query, many times over, in one call.
    SearchRequest.Builder hold = ServerTestSupport.searchRequest(name, test, 0, test.rows(),
        10);
    List<dev.codebook.api.v1.Query> once = List.copyOf(hold.getQueriesList());
    for (int rep = 0; rep < 3; rep++) {
      hold.addAllQueries(once);
    }
    if (nprobe > 0) {
      hold.setNprobe(64).setRerank(4);
    }
    CompletableFuture<SearchResponse> held = call(async, hold.build());
    List<CompletableFuture<SearchResponse>> queued = new ArrayList<>();
    for (SearchRequest r : singles) {
      queued.add(call(async, r));
    }
    held.get(60, TimeUnit.SECONDS);
    for (int i = 0; i < CALLS; i++) {
      SearchResponse r = queued.get(i).get(60, TimeUnit.SECONDS);
      assertEquals(1, r.getResultsCount());
      assertArrayEquals(alone[i], ServerTestSupport.ids(r, 0), "call " + i + ", nprobe "
          + nprobe);
    }
    double merged = merged(server) - mergedBefore;
    // The calls with a top_k of their own split the queue into runs of calls that can merge
    // (at most 16 queries a batch); they themselves are searched alone.
    int mergeable = CALLS - CALLS / 8;
    assertTrue(merged >= mergeable / 2, "merged " + merged + " of " + CALLS + " queued calls");
    assertTrue(merged <= mergeable, "merged " + merged + ": a call with another top_k merged");
  }

  @Test
  void aCallWithManyQueriesIsSharedOutOverTheSearchThreads() throws Exception {
    ServerConfig config = ServerTestSupport.testConfig().toBuilder()
        .searchThreads(3).metricsPort(0).build();
    try (CodebookServer server = CodebookServer.start(config)) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      try {
        ServerTestSupport.Stubs stubs = ServerTestSupport.Stubs.of(ch);
        // Not built: an exact scan of the buffered rows, ~1 ms a chunk, so the helpers are up
        // long before this thread could have searched every chunk alone.
        String name = loadSample(stubs, "IVF64,PQ48x4fs,RFlat", false);
        FloatMatrix test = ServerTestSupport.sample().test();
        int n = 100;
        int[][] alone = new int[n][];
        for (int i = 0; i < n; i++) {
          alone[i] = ServerTestSupport.ids(stubs.search().search(
              ServerTestSupport.searchRequest(name, test, i, i + 1, 10).setNprobe(8).build()), 0);
        }
        assertEquals(0.0, metric(server, "codebook_search_split_parts_total"),
            "one query a call: nothing to split");
        SearchResponse all = stubs.search().search(
            ServerTestSupport.searchRequest(name, test, 0, n, 10).setNprobe(8).build());
        assertEquals(n, all.getResultsCount());
        for (int i = 0; i < n; i++) {
          assertArrayEquals(alone[i], ServerTestSupport.ids(all, i), "query " + i);
        }
        // Cut into twelve chunks of 9 rows; helpers count theirs before the answer goes out.
        double helped = metric(server, "codebook_search_split_parts_total");
        int chunks = (n + SearchScheduler.chunkRows(n, 3) - 1) / SearchScheduler.chunkRows(n, 3);
        assertEquals(12, chunks);
        assertTrue(helped >= 1 && helped <= chunks, "chunks searched by helpers: " + helped);
        assertEquals(2.0 * n, metric(server, "codebook_search_queries_total"));
        // Too few queries to be worth splitting.
        stubs.search().search(ServerTestSupport.searchRequest(name, test, 0,
            SearchScheduler.MIN_SPLIT_QUERIES - 1, 10).setNprobe(8).build());
        assertEquals(helped, metric(server, "codebook_search_split_parts_total"));
      } finally {
        ServerTestSupport.close(ch);
      }
    }
  }

  /** Collection "merged" holding the sample's train rows, its index built if {@code build}. */
  private static String loadSample(ServerTestSupport.Stubs stubs, String spec, boolean build) {
    String name = ServerTestSupport.create(stubs, "merged", 384, Metric.COSINE, spec).getName();
    FloatMatrix train = ServerTestSupport.sample().train();
    ServerTestSupport.upsertRows(stubs, name, train, 0, train.rows());
    if (build) {
      ServerTestSupport.buildAndWait(stubs, name, 7);
    }
    return name;
  }

  private static CompletableFuture<SearchResponse> call(SearchServiceGrpc.SearchServiceStub stub,
      SearchRequest request) {
    CompletableFuture<SearchResponse> f = new CompletableFuture<>();
    stub.search(request, new StreamObserver<>() {
      @Override
      public void onNext(SearchResponse value) {
        f.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        f.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    return f;
  }

  /** The server's count of calls answered by a merged search, 0 before the first. */
  private static double merged(CodebookServer server) throws Exception {
    return metric(server, "codebook_search_merged_calls_total");
  }

  /** A counter of collection "merged" on the server's /metrics, 0 before it is first counted. */
  private static double metric(CodebookServer server, String name) throws Exception {
    String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + server.metricsPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    return text.contains(name + "{")
        ? SecurityAndMetricsTest.sample(text, name, "collection=\"merged\"")
        : 0.0;
  }
}
