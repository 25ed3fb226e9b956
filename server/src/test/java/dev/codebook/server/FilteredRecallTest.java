package dev.codebook.server;

import static dev.codebook.server.ServerTestSupport.create;
import static dev.codebook.server.ServerTestSupport.ids;
import static dev.codebook.server.ServerTestSupport.recall;
import static dev.codebook.server.ServerTestSupport.searchRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.codebook.api.v1.AttributeValue;
import dev.codebook.api.v1.Filter;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.api.v1.UpsertVectorsRequest;
import dev.codebook.api.v1.Vector;
import dev.codebook.index.search.TopK;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.AnnBenchmarksHdf5;
import dev.codebook.index.vector.AnnDataset;
import dev.codebook.index.vector.FloatMatrix;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

/**
 * Issue #4's filtered-search criterion through the real server, on the full debian-minilm set
 * (28,000 x 384, angular): synthetic random attributes pass 1%, 10% and 50% of the vectors, and
 * recall@10 against the exact filtered top-10 (brute force here) must be at least 0.95 of the
 * unfiltered recall at the same settings (IVF64,PQ48x4fs,RFlat, nprobe 8, rerank 10), and at
 * least the floors the README's figures rest on: unfiltered 0.80, 1% 0.97, 10% 0.93, 50% 0.86
 * (measured 0.837, 1.0, 0.9625, 0.8955), so a search that gets worse with and without a filter
 * alike still fails. The set lives in {@code ../shared/data} ({@code -Dcodebook.shared}); the
 * test is skipped where it is absent.
 */
class FilteredRecallTest {

  static final Path DATA = Path.of(System.getProperty("codebook.shared", "../../shared"), "data",
      "debian-minilm-384-angular.hdf5");
  static final int QUERIES = 200;
  static final int K = 10;
  static final int NPROBE = 8;
  static final int RERANK = 10;

  @Test
  void filtersPassingOneTenAndFiftyPercentKeepRecallOnTheDebianSet() throws Exception {
    assumeTrue(Files.isRegularFile(DATA), DATA + " is absent: the 28k debian set is not here");
    AnnDataset ds = AnnBenchmarksHdf5.read(DATA);
    FloatMatrix base = ds.train();
    FloatMatrix queries = ds.test().head(QUERIES);
    int n = base.rows();
    // Independent random attributes: lang is "rare" on 1%, bucket is uniform in 0..99, half is
    // true on 50%; none correlates with the vectors, the hard case for IVF.
    Random rnd = new Random(20260101);
    boolean[] rare = new boolean[n];
    int[] bucket = new int[n];
    boolean[] half = new boolean[n];
    for (int i = 0; i < n; i++) {
      rare[i] = rnd.nextInt(100) == 0;
      bucket[i] = rnd.nextInt(100);
      half[i] = rnd.nextBoolean();
    }
    try (CodebookServer server = CodebookServer.start(ServerTestSupport.testConfig())) {
      ManagedChannel channel = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs stubs = ServerTestSupport.Stubs.of(channel);
      String name = create(stubs, "debian-filtered", base.dim(), Metric.COSINE,
          "IVF64,PQ48x4fs,RFlat").getName();
      for (int from = 0; from < n; from += 1000) {
        UpsertVectorsRequest.Builder r = UpsertVectorsRequest.newBuilder().setCollection(name);
        for (int i = from; i < Math.min(n, from + 1000); i++) {
          r.addVectors(Vector.newBuilder(ServerTestSupport.vector(Integer.toString(i), base.row(i)))
              .putAttributes("lang", AttributeValue.newBuilder()
                  .setStringValue(rare[i] ? "rare" : "common").build())
              .putAttributes("bucket", AttributeValue.newBuilder().setIntValue(bucket[i]).build())
              .putAttributes("half", AttributeValue.newBuilder().setBoolValue(half[i]).build()));
        }
        stubs.vectors().upsertVectors(r.build());
      }
      ServerTestSupport.buildAndWait(stubs, name, 0);

      double unfiltered = recall(truth(base, queries, i -> true), search(stubs, name, queries,
          null), K);
      assertTrue(unfiltered >= 0.80, "unfiltered recall@10 " + unfiltered);
      check(stubs, name, base, queries, unfiltered, "1%", "lang = rare", i -> rare[i], 0.97);
      check(stubs, name, base, queries, unfiltered, "10%", "bucket < 10", i -> bucket[i] < 10,
          0.93);
      check(stubs, name, base, queries, unfiltered, "50%", "half = true", i -> half[i], 0.86);
      ServerTestSupport.close(channel);
    }
  }

  private static void check(ServerTestSupport.Stubs stubs, String name, FloatMatrix base,
      FloatMatrix queries, double unfiltered, String what, String filter, IntPredicate pass,
      double floor) {
    int[][] got = search(stubs, name, queries, filter);
    for (int[] row : got) {
      assertEquals(K, row.length);
      for (int id : row) {
        assertTrue(pass.test(id), what + ": id " + id + " does not pass " + filter);
      }
    }
    double r = recall(truth(base, queries, pass), got, K);
    System.err.printf("FilteredRecallTest %s (%s): recall@10 %.4f, unfiltered %.4f, ratio %.3f%n",
        what, filter, r, unfiltered, r / unfiltered);
    assertTrue(r >= 0.95 * unfiltered, what + " filtered recall@10 " + r + " vs unfiltered "
        + unfiltered);
    assertTrue(r >= floor, what + " filtered recall@10 " + r + " below " + floor);
  }

  private static int[][] search(ServerTestSupport.Stubs stubs, String name, FloatMatrix queries,
      String filter) {
    SearchRequest.Builder req = searchRequest(name, queries, 0, queries.rows(), K)
        .setNprobe(NPROBE).setRerank(RERANK);
    if (filter != null) {
      req.setFilter(Filter.newBuilder().setExpression(filter));
    }
    SearchResponse r = stubs.search().search(req.build());
    int[][] out = new int[queries.rows()][];
    for (int q = 0; q < out.length; q++) {
      out[q] = ids(r, q);
    }
    return out;
  }

  /** Brute force: cosine of every passing row with every query, top k. */
  private static int[][] truth(FloatMatrix base, FloatMatrix queries, IntPredicate pass) {
    int dim = base.dim();
    float[] inv = new float[base.rows()];
    for (int i = 0; i < inv.length; i++) {
      inv[i] = (float) (1 / Math.sqrt(VectorKernels.dotProduct(base.data(), base.offset(i),
          base.data(), base.offset(i), dim)));
    }
    int[][] out = new int[queries.rows()][];
    TopK heap = new TopK(K);
    for (int q = 0; q < queries.rows(); q++) {
      heap.clear();
      for (int i = 0; i < base.rows(); i++) {
        if (pass.test(i)) {
          heap.offer(i, VectorKernels.dotProduct(queries.data(), queries.offset(q), base.data(),
              base.offset(i), dim) * inv[i]);
        }
      }
      out[q] = new int[heap.size()];
      heap.drainBestFirst(out[q], null, 0);
    }
    return out;
  }
}
