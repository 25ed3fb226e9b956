package dev.codebook.index.ivf;

import dev.codebook.index.SearchContext;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.search.BatchSearch;
import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.VectorIndex;
import dev.codebook.index.flat.FlatIndex;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.search.TopK;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * IVF-PQ returns what a plain ADC over its own codes returns (the fast paths are exact
 * re-implementations, not approximations of it), and ADC plus re-ranking approaches exact search.
 */
class IvfPqIndexTest {

  static final IndexFactory.BuildOptions OPTS = new IndexFactory.BuildOptions(7, 2, s -> {});

  /** Gaussian mixture: 20 centres, spread 0.3, like real embeddings' cluster structure. */
  static FloatMatrix mixture(Random r, int rows, int dim, long centresSeed) {
    return mixture(r, rows, dim, centresSeed, 20);
  }

  /** Gaussian mixture around {@code count} centres, spread 0.3. */
  static FloatMatrix mixture(Random r, int rows, int dim, long centresSeed, int count) {
    Random c = new Random(centresSeed);
    float[][] centres = new float[count][dim];
    for (float[] centre : centres) {
      for (int j = 0; j < dim; j++) {
        centre[j] = (float) c.nextGaussian();
      }
    }
    FloatMatrix m = FloatMatrix.allocate(rows, dim);
    for (int i = 0; i < rows; i++) {
      float[] centre = centres[r.nextInt(centres.length)];
      for (int j = 0; j < dim; j++) {
        m.data()[i * dim + j] = centre[j] + 0.3f * (float) r.nextGaussian();
      }
    }
    return m;
  }

  /** Top-k of the float ADC score of every code in the probed lists, computed the slow way. */
  static int[] referenceAdc(IvfPqIndex index, float[] q, int nprobe, int k) {
    int d = index.dimension();
    boolean ip = index.similarity() != Similarity.EUCLIDEAN;
    CoarseQuantizer coarse = index.coarse();
    int[] lists;
    if (coarse == null) {
      lists = new int[] {0};
    } else {
      TopK probes = new TopK(nprobe);
      coarse.probe(q, 0, probes);
      lists = new int[probes.size()];
      probes.drainBestFirst(lists, null, 0);
    }
    float[] rec = new float[d];
    float[] sub = new float[d / index.pq().m()];
    TopK heap = new TopK(k);
    for (int list : lists) {
      for (int pos = 0; pos < index.listSize(list); pos++) {
        int ds = index.pq().dsub();
        for (int s = 0; s < index.pq().m(); s++) {
          index.pq().centroid(s, index.codeAt(list, pos, s), sub, 0);
          System.arraycopy(sub, 0, rec, s * ds, ds);
        }
        if (coarse != null && index.spec().residual()) {
          for (int j = 0; j < d; j++) {
            rec[j] += coarse.centroids().data()[list * d + j];
          }
        }
        double score = 0;
        for (int j = 0; j < d; j++) {
          score += ip ? (double) q[j] * rec[j] : -((double) q[j] - rec[j]) * (q[j] - rec[j]);
        }
        heap.offer(index.idAt(list, pos), (float) score);
      }
    }
    int[] ids = new int[heap.size()];
    heap.drainBestFirst(ids, null, 0);
    return ids;
  }

  @ParameterizedTest
  @CsvSource({
      "'IVF16,PQ8x4fs',DOT_PRODUCT", "'IVF16,PQ8x4fsr',DOT_PRODUCT", "'IVF16,PQ8x4fsr',EUCLIDEAN",
      "'PQ12x4fs',EUCLIDEAN", "'IVF16,PQ8',DOT_PRODUCT", "'IVF16,PQ8',EUCLIDEAN", "'PQ6',COSINE",
      "'IVF8,PQ7x4fs',COSINE", "'OPQ8,IVF16,PQ8',DOT_PRODUCT", "'OPQ12,PQ12x4fs',EUCLIDEAN",
      "'OPQ6,IVF8,PQ12x4fsr',COSINE"})
  void searchEqualsPlainAdcOverTheSameCodes(String specText, Similarity sim) {
    Random r = new Random(specText.hashCode() + sim.ordinal());
    int dim = specText.contains("PQ7") ? 42 : 48;
    FloatMatrix base = mixture(r, 3000, dim, 11);
    FloatMatrix queries = mixture(r, 40, dim, 11);
    IndexSpec spec = IndexSpec.parse(specText);
    VectorIndex built = IndexFactory.create(spec, dim, sim, base, OPTS);
    built.add(base);
    IvfPqIndex index = (IvfPqIndex) built;
    int nprobe = spec.hasIvf() ? 3 : 1;
    SearchResults res = BatchSearch.search(index, queries, 10, new SearchParams(nprobe, 1), 2);
    FloatMatrix prepared = index.prepareQueries(queries);
    int agree = 0, total = 0;
    for (int q = 0; q < queries.rows(); q++) {
      int[] expected = referenceAdc(index, prepared.row(q), nprobe, 10);
      int[] got = res.idsOf(q);
      assertEquals(expected.length, got.length);
      for (int i = 0; i < expected.length; i++) {
        total++;
        if (expected[i] == got[i]) {
          agree++;
        }
      }
    }
    // Float sums in another order can swap exact ties; anything more is a bug.
    assertTrue(agree >= 0.99 * total, specText + ": " + agree + "/" + total + " ids agree");
  }

  @ParameterizedTest
  @CsvSource({"'IVF16,PQ8x4fsr',DOT_PRODUCT", "'IVF16,PQ12x4fs,RFlat',COSINE",
      "'OPQ8,IVF16,PQ8',COSINE", "'IVF8,PQ7x4fs',DOT_PRODUCT"})
  void aBatchScannedListByListGetsTheAnswersOfAQueryByQueryScan(String specText, Similarity sim) {
    Random r = new Random(specText.hashCode());
    int dim = specText.contains("PQ7") ? 42 : 48;
    FloatMatrix base = mixture(r, 4000, dim, 9);
    FloatMatrix queries = mixture(r, 150, dim, 9);
    IvfPqIndex index = (IvfPqIndex) IndexFactory.create(IndexSpec.parse(specText), dim, sim,
        base, OPTS);
    index.add(base);
    SearchParams params = new SearchParams(3, 3);
    index.listMajorMinCodeBytes(Long.MAX_VALUE);
    SearchResults byQuery = BatchSearch.search(index, queries, 10, params, 1);
    index.listMajorMinCodeBytes(0);
    SearchResults byList = BatchSearch.search(index, queries, 10, params, 1);
    SearchResults byListTwoThreads = BatchSearch.search(index, queries, 10, params, 2);
    for (int q = 0; q < queries.rows(); q++) {
      assertArrayEquals(byQuery.idsOf(q), byList.idsOf(q), specText + " query " + q);
      for (int i = 0; i < byQuery.idsOf(q).length; i++) {
        // Equal up to rounding: the re-rank's dot product sums its lanes in whatever order the
        // Vector API picks, which differs between the interpreter and C2, and C2 may compile
        // the kernel between the two scans.
        float expected = byQuery.score(q, i);
        assertEquals(expected, byList.score(q, i), 4 * Math.ulp(expected),
            specText + " query " + q);
      }
      assertArrayEquals(byQuery.idsOf(q), byListTwoThreads.idsOf(q), specText + " query " + q);
    }
  }

  @Test
  void fastScanReturnsTheEightBitReferencePathsAnswersOverFourBitCodes() {
    // The same 4-bit codebook scanned by fast-scan and by a plain float ADC: identical ids.
    Random r = new Random(3);
    FloatMatrix base = mixture(r, 5000, 64, 5);
    FloatMatrix queries = mixture(r, 50, 64, 5);
    IvfPqIndex fs = (IvfPqIndex) IndexFactory.create(IndexSpec.parse("IVF32,PQ32x4fsr"), 64,
        Similarity.DOT_PRODUCT, base, OPTS);
    fs.add(base);
    SearchResults res = BatchSearch.search(fs, queries, 20, new SearchParams(4, 1), 1);
    for (int q = 0; q < queries.rows(); q++) {
      assertArrayEquals(referenceAdc(fs, queries.row(q), 4, 20), res.idsOf(q), "query " + q);
    }
  }

  @Test
  void rerankingWithFullVectorsApproachesExactSearch() {
    Random r = new Random(9);
    FloatMatrix base = mixture(r, 4000, 64, 1);
    FloatMatrix queries = mixture(r, 50, 64, 1);
    FlatIndex exact = FlatIndex.of(base, Similarity.EUCLIDEAN);
    SearchResults truth = BatchSearch.search(exact, queries, 10, SearchParams.DEFAULTS, 1);
    double plain = recall(build("IVF16,PQ16", base), queries, truth, new SearchParams(16, 1));
    double reranked = recall(build("IVF16,PQ16,RFlat", base), queries, truth,
        new SearchParams(16, 10));
    assertTrue(reranked > plain, reranked + " <= " + plain);
    assertTrue(reranked >= 0.95, "recall@10 with RFlat x10: " + reranked);
  }

  /**
   * What pre-selecting lists ({@link CentroidPreselector}) costs in recall, on a set where
   * recall is bound by the lists probed rather than by the codes: 1,024 lists over data in 20
   * clusters (about fifty near ties each), exact re-ranking. At nprobe 12 every query
   * pre-selects, and probes exactly the lists an exhaustive probe picks, so its recall is the
   * exhaustive probe's; and that recall is well above what probing fewer lists gives, so lists
   * missed by the pre-selection would show.
   */
  @Test
  void preselectedProbesPickTheExhaustiveProbesListsWhereRecallDependsOnThem() {
    Random r = new Random(12);
    FloatMatrix base = mixture(r, 8_000, 32, 3);
    FloatMatrix queries = mixture(r, 200, 32, 3);
    SearchResults truth = BatchSearch.search(FlatIndex.of(base, Similarity.EUCLIDEAN), queries,
        10, SearchParams.DEFAULTS, 1);
    IvfPqIndex index = (IvfPqIndex) build("IVF1024,PQ16x4fs,RFlat", base);
    CoarseQuantizer coarse = index.coarse();
    int nprobe = 12;
    assertTrue(coarse.preselects(nprobe));
    FloatMatrix prepared = index.prepareQueries(queries);
    for (int q = 0; q < queries.rows(); q++) {
      TopK preselected = new TopK(nprobe);
      coarse.probeBatch(prepared, q, q + 1, new TopK[] {preselected},
          coarse.newProbeScratch());
      TopK exhaustive = new TopK(nprobe);
      coarse.probe(prepared.data(), prepared.offset(q), exhaustive);
      int[] a = new int[nprobe];
      int[] b = new int[nprobe];
      preselected.drainBestFirst(a, null, 0);
      exhaustive.drainBestFirst(b, null, 0);
      Arrays.sort(a);
      Arrays.sort(b);
      assertArrayEquals(b, a, "query " + q + ": the lists an exhaustive probe picks");
    }
    double probed = recall(index, queries, truth, new SearchParams(nprobe, 10));
    double fewer = recall(index, queries, truth, new SearchParams(2, 10));
    assertTrue(probed >= fewer + 0.05, "probing matters here: nprobe 2 " + fewer
        + ", nprobe 12 " + probed);
  }

  @Test
  void opqSearchesInTheRotatedSpaceAndRerankingGivesExactScores() {
    Random r = new Random(10);
    FloatMatrix base = mixture(r, 4000, 64, 1);
    FloatMatrix queries = mixture(r, 50, 64, 1);
    FlatIndex exact = FlatIndex.of(base, Similarity.EUCLIDEAN);
    SearchResults truth = BatchSearch.search(exact, queries, 10, SearchParams.DEFAULTS, 1);
    IvfPqIndex opq = (IvfPqIndex) build("OPQ16,IVF16,PQ16,RFlat", base);
    assertEquals(64, opq.rotation().dimension());
    SearchParams params = new SearchParams(16, 10);
    assertTrue(recall(opq, queries, truth, params) >= 0.95, "recall@10 of OPQ with RFlat x10");
    // Re-ranked scores are the exact ones: the rotation keeps distances.
    SearchResults res = BatchSearch.search(opq, queries, 10, params, 1);
    for (int q = 0; q < queries.rows(); q++) {
      for (int i = 0; i < 10; i++) {
        float[] v = base.row(res.id(q, i));
        double d2 = 0;
        for (int j = 0; j < 64; j++) {
          double t = (double) queries.data()[queries.offset(q) + j] - v[j];
          d2 += t * t;
        }
        assertEquals(-d2, res.score(q, i), 1e-3 * (1 + d2), "query " + q + " rank " + i);
      }
    }
  }

  @Test
  void aSearchCountsTheCodesItScannedAndTheCandidatesItReRankedInItsContext() {
    Random r = new Random(11);
    FloatMatrix base = mixture(r, 3000, 32, 1);
    FloatMatrix queries = mixture(r, 3, 32, 1);
    VectorIndex index = build("IVF8,PQ8,RFlat", base);
    // Every list probed: each query scans every code and re-ranks 10 x 4 candidates.
    SearchResults all = new SearchResults(3, 10);
    SearchContext ctx = SearchContext.of(index.prepareQueries(queries), new SearchParams(8, 4),
        all);
    index.search(ctx);
    assertEquals(3 * 3000, ctx.codesScanned());
    assertEquals(3 * 40, ctx.exactScored());
    index.search(ctx.range(1, 2));
    assertEquals(4 * 3000, ctx.codesScanned());
    assertEquals(4 * 40, ctx.exactScored());
  }

  @Test
  void aCancelledCallStopsInsideOneQuerysScanAndLeavesTheNextSearchIntact() {
    Random r = new Random(12);
    FloatMatrix base = mixture(r, 4000, 32, 1);
    FloatMatrix queries = mixture(r, 1, 32, 1);
    IvfPqIndex index = (IvfPqIndex) build("IVF128,PQ8", base);
    FloatMatrix prepared = index.prepareQueries(queries);
    SearchParams everyList = new SearchParams(128, 1);
    SearchResults before = new SearchResults(1, 10);
    index.search(SearchContext.of(prepared, everyList, before).cancellation(() -> false));

    int[] polls = {0};
    java.util.concurrent.CancellationException e = org.junit.jupiter.api.Assertions.assertThrows(
        java.util.concurrent.CancellationException.class,
        () -> index.search(SearchContext.of(prepared, everyList, new SearchResults(1, 10))
            .cancellation(() -> ++polls[0] >= 2)));
    // Polled every CANCEL_CHECK_LISTS lists: stopped at the second poll, not after all 128.
    assertEquals(2, polls[0]);
    assertTrue(e.getMessage().contains(2 * IvfPqIndex.CANCEL_CHECK_LISTS - 1 + " lists"),
        e.getMessage());

    SearchResults after = new SearchResults(1, 10);
    index.search(SearchContext.of(prepared, everyList, after).cancellation(() -> false));
    assertArrayEquals(before.idsOf(0), after.idsOf(0));
  }

  private static VectorIndex build(String spec, FloatMatrix base) {
    VectorIndex index = IndexFactory.create(IndexSpec.parse(spec), base.dim(),
        Similarity.EUCLIDEAN, base, OPTS);
    index.add(base);
    return index;
  }

  private static double recall(VectorIndex index, FloatMatrix queries, SearchResults truth,
      SearchParams params) {
    return recall(BatchSearch.search(index, queries, 10, params, 1), truth);
  }

  private static double recall(SearchResults res, SearchResults truth) {
    int hits = 0;
    for (int q = 0; q < truth.queries(); q++) {
      for (int id : res.idsOf(q)) {
        for (int t : truth.idsOf(q)) {
          if (id == t) {
            hits++;
          }
        }
      }
    }
    return hits / (10.0 * truth.queries());
  }

  @Test
  void badInputNamesTheField() {
    Random r = new Random(1);
    FloatMatrix base = mixture(r, 500, 16, 2);
    VectorIndex index = build("IVF8,PQ4", base);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BatchSearch.search(index, base.head(1), 10, new SearchParams(9, 1), 1));
    assertEquals("nprobe 9 exceeds nlist 8", e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> index.add(new FloatMatrix(1, 15, new float[15])));
    float[] nan = base.row(0);
    nan[3] = Float.NaN;
    IllegalArgumentException n = assertThrows(IllegalArgumentException.class,
        () -> BatchSearch.search(index, new FloatMatrix(1, 16, nan), 10, SearchParams.DEFAULTS, 1));
    assertTrue(n.getMessage().contains("queries[0] has a non-finite value NaN"), n.getMessage());
    IllegalArgumentException div = assertThrows(IllegalArgumentException.class,
        () -> IndexFactory.create(IndexSpec.parse("IVF8,PQ5"), 16, Similarity.EUCLIDEAN, base, OPTS));
    assertTrue(div.getMessage().contains("does not divide the dimension 16"), div.getMessage());
  }

  @ParameterizedTest
  @CsvSource({"'IVF16,PQ8x4fsr'", "'IVF16,PQ8'", "'IVF16,PQ8,RFlat'"})
  void filteredSearchReturnsOnlyAcceptedOrdinalsAndKOfThem(String spec) {
    Random r = new Random(21);
    FloatMatrix base = mixture(r, 3000, 32, 4);
    FloatMatrix queries = mixture(r, 20, 32, 4);
    VectorIndex index = IndexFactory.create(IndexSpec.parse(spec), 32, Similarity.DOT_PRODUCT,
        base, OPTS);
    index.add(base);
    FloatMatrix prepared = index.prepareQueries(queries);
    SearchResults res = new SearchResults(20, 10);
    index.search(SearchContext.of(prepared, new SearchParams(16, 4), res)
        .accept(ord -> ord % 10 == 0));
    for (int q = 0; q < 20; q++) {
      int[] ids = res.idsOf(q);
      assertEquals(10, ids.length, "300 accepted vectors, all lists probed: k of them");
      for (int id : ids) {
        assertEquals(0, id % 10, "id " + id + " was filtered out");
      }
    }
  }

  @ParameterizedTest
  @CsvSource({"'IVF32,PQ8x4fs'", "'IVF32,PQ8'"})
  void aRestrictiveFilterIsWidenedByTheFilteredSearchNotInsideTheIndex(String spec) {
    Random r = new Random(22);
    FloatMatrix base = mixture(r, 4000, 32, 4);
    FloatMatrix queries = mixture(r, 20, 32, 4);
    VectorIndex index = IndexFactory.create(IndexSpec.parse(spec), 32, Similarity.DOT_PRODUCT,
        base, OPTS);
    index.add(base);
    FloatMatrix prepared = index.prepareQueries(queries);
    // 1% of the vectors pass: the 2 best of 32 lists hold about 2-3 of them, far fewer than 10.
    // The index scans the nprobe lists it was given (accept-only: fewer than k come back) ...
    SearchResults res = new SearchResults(20, 10);
    index.search(SearchContext.of(prepared, new SearchParams(2, 1), res)
        .accept(ord -> ord % 100 == 7));
    for (int q = 0; q < 20; q++) {
      assertTrue(res.idsOf(q).length < 10, "query " + q + ": nprobe 2 bounds the scan");
    }
    // ... and the filtered search, on the index path at nprobe 2, searches them again wider.
    org.roaringbitmap.RoaringBitmap accepted = new org.roaringbitmap.RoaringBitmap();
    for (int i = 7; i < base.rows(); i += 100) {
      accepted.add(i);
    }
    dev.codebook.index.filter.FilteredSearch fs = new dev.codebook.index.filter.FilteredSearch(
        index, accepted, ords -> { throw new AssertionError("the index path reads no rows"); },
        new SearchParams(2, 1), new dev.codebook.index.filter.FilterPlan(false, 2));
    SearchResults widened = fs.search(queries, prepared, 0, 20, 10);
    assertTrue(fs.passes() > 1, "passes: " + fs.passes());
    for (int q = 0; q < 20; q++) {
      int[] ids = widened.idsOf(q);
      assertEquals(10, ids.length, "query " + q + ": searched again past nprobe=2");
      for (int id : ids) {
        assertEquals(7, id % 100, "id " + id + " was filtered out");
      }
    }
    // Without a filter nprobe stays a bound: the same search scans the 2 lists only.
    SearchResults unfiltered = new SearchResults(20, 10);
    index.search(SearchContext.of(prepared, new SearchParams(2, 1), unfiltered));
    IvfPqIndex ivf = (IvfPqIndex) index;
    for (int q = 0; q < 20; q++) {
      TopK probes = new TopK(2);
      ivf.coarse().probe(prepared.row(q), 0, probes);
      int[] lists = new int[2];
      probes.drainBestFirst(lists, null, 0);
      int reachable = ivf.listSize(lists[0]) + ivf.listSize(lists[1]);
      assertEquals(Math.min(10, reachable), unfiltered.idsOf(q).length);
    }
  }

  @Test
  void aBatchWithOneBadVectorAddsNothing() {
    Random r = new Random(5);
    FloatMatrix base = mixture(r, 600, 16, 2);
    VectorIndex index = IndexFactory.create(IndexSpec.parse("IVF4,PQ4,RFlat"), 16,
        Similarity.COSINE, base, OPTS);
    index.add(base.head(100));
    FloatMatrix batch = base.head(50);
    FloatMatrix bad = new FloatMatrix(50, 16, batch.data().clone());
    java.util.Arrays.fill(bad.data(), 49 * 16, 50 * 16, 0f);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> index.add(bad));
    assertTrue(e.getMessage().contains("vectors[49] cannot be normalized"), e.getMessage());
    bad.data()[3] = Float.NaN;
    assertThrows(IllegalArgumentException.class, () -> index.add(bad));
    assertEquals(100, index.size());
    index.add(batch);
    assertEquals(150, index.size());
  }

  @Test
  void faissStyleInitializationIsAnOptionThatChangesOnlyHowTheKMeansStart() {
    FloatMatrix train = mixture(new Random(3), 3000, 32, 99);
    IndexSpec spec = IndexSpec.parse("IVF16,PQ8");
    IvfPqIndex plusPlus = (IvfPqIndex) IndexFactory.create(spec, 32, Similarity.EUCLIDEAN, train,
        OPTS);
    IvfPqIndex random = (IvfPqIndex) IndexFactory.create(spec, 32, Similarity.EUCLIDEAN, train,
        OPTS.withInit(dev.codebook.index.train.KMeans.Init.RANDOM));
    IvfPqIndex randomAgain = (IvfPqIndex) IndexFactory.create(spec, 32, Similarity.EUCLIDEAN,
        train, OPTS.withInit(dev.codebook.index.train.KMeans.Init.RANDOM));
    assertEquals(dev.codebook.index.train.KMeans.DEFAULT_INIT, OPTS.init(), "k-means++ by default");
    assertTrue(!java.util.Arrays.equals(plusPlus.coarse().centroids().data(),
        random.coarse().centroids().data()), "a different start gives different centroids");
    assertArrayEquals(random.coarse().centroids().data(), randomAgain.coarse().centroids().data(),
        "and is as reproducible from the seed");
  }
}
