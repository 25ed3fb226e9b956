package dev.codebook.index.filter;

import dev.codebook.index.SearchContext;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.VectorIndex;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.vector.AnnBenchmarksHdf5;
import dev.codebook.index.vector.AnnDataset;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.roaringbitmap.RoaringBitmap;

/**
 * Filtered search over IVF64,PQ48x4fs,RFlat on the 5,000-vector sample with random attributes
 * passing 1%, 10% and 50%: both paths keep recall against the brute-force filtered top-10, at
 * least as well as the index's own accept-only search at the request's nprobe.
 */
class FilteredSearchTest {

  static final int K = 10;
  static final SearchParams PARAMS = new SearchParams(4, 10);

  static FloatMatrix base;
  static FloatMatrix queries;
  static VectorIndex index;
  static FloatMatrix prepared;
  static int[] bucket;

  @BeforeAll
  static void build() throws Exception {
    AnnDataset ds = AnnBenchmarksHdf5.read(Path.of("../samples/debian-minilm-5k.hdf5"));
    base = ds.train();
    queries = ds.test().head(100);
    index = IndexFactory.create(IndexSpec.parse("IVF64,PQ48x4fs,RFlat"), base.dim(),
        Similarity.COSINE, base, IndexFactory.BuildOptions.defaults());
    index.add(base);
    prepared = index.prepareQueries(queries);
    Random rnd = new Random(7);
    bucket = new int[base.rows()];
    for (int i = 0; i < bucket.length; i++) {
      bucket[i] = rnd.nextInt(100);
    }
  }

  static RoaringBitmap passing(int percent) {
    RoaringBitmap b = new RoaringBitmap();
    for (int i = 0; i < bucket.length; i++) {
      if (bucket[i] < percent) {
        b.add(i);
      }
    }
    return b;
  }

  static FloatMatrix gather(int[] ords) {
    float[] out = new float[ords.length * base.dim()];
    for (int i = 0; i < ords.length; i++) {
      System.arraycopy(base.data(), base.offset(ords[i]), out, i * base.dim(), base.dim());
    }
    return new FloatMatrix(ords.length, base.dim(), out);
  }

  /** Brute-force cosine top-k in double precision over the accepted rows. */
  static int[][] truth(RoaringBitmap accepted) {
    int dim = base.dim();
    int[] ords = accepted.toArray();
    double[] norms = new double[ords.length];
    for (int i = 0; i < ords.length; i++) {
      double s = 0;
      for (int j = 0; j < dim; j++) {
        double x = base.data()[base.offset(ords[i]) + j];
        s += x * x;
      }
      norms[i] = Math.sqrt(s);
    }
    int[][] out = new int[queries.rows()][];
    for (int q = 0; q < queries.rows(); q++) {
      double[] scores = new double[ords.length];
      Integer[] order = new Integer[ords.length];
      for (int i = 0; i < ords.length; i++) {
        double s = 0;
        for (int j = 0; j < dim; j++) {
          s += (double) queries.data()[queries.offset(q) + j] * base.data()[base.offset(ords[i]) + j];
        }
        scores[i] = s / norms[i];
        order[i] = i;
      }
      Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
      out[q] = new int[Math.min(K, ords.length)];
      for (int r = 0; r < out[q].length; r++) {
        out[q][r] = ords[order[r]];
      }
    }
    return out;
  }

  static double recall(int[][] truth, SearchResults got) {
    long hit = 0, total = 0;
    for (int q = 0; q < truth.length; q++) {
      int[] ids = got.idsOf(q);
      for (int t : truth[q]) {
        for (int id : ids) {
          if (id == t) {
            hit++;
          }
        }
      }
      total += truth[q].length;
    }
    return (double) hit / total;
  }

  static SearchResults run(FilteredSearch fs) {
    return fs.search(queries, prepared, 0, queries.rows(), K);
  }

  static double unfilteredRecall() {
    SearchResults r = new SearchResults(queries.rows(), K);
    index.search(SearchContext.of(prepared, PARAMS, r));
    return recall(truth(RoaringBitmap.bitmapOfRange(0, base.rows())), r);
  }

  @Test
  void bothPathsKeepRecallAtOneTenAndFiftyPercent() {
    double unfiltered = unfilteredRecall();
    for (int percent : new int[] {1, 10, 50}) {
      RoaringBitmap accepted = passing(percent);
      int[][] truth = truth(accepted);
      FilterPlan chosen = FilterPlan.choose(accepted.getCardinality(), base.rows(),
          PARAMS.nprobe(), 64, false);
      for (boolean exact : new boolean[] {true, false}) {
        FilteredSearch fs = new FilteredSearch(index, accepted, FilteredSearchTest::gather, PARAMS,
            new FilterPlan(exact, chosen.nprobe()));
        SearchResults r = run(fs);
        for (int q = 0; q < queries.rows(); q++) {
          int[] ids = r.idsOf(q);
          assertEquals(K, ids.length, "k results");
          for (int id : ids) {
            assertTrue(accepted.contains(id), "only accepted ordinals");
          }
        }
        double rec = recall(truth, r);
        String what = percent + "% " + (exact ? "exact" : "index nprobe " + chosen.nprobe())
            + ": recall@10 " + rec + ", unfiltered " + unfiltered;
        System.err.println("FilteredSearchTest " + what);
        if (exact) {
          assertEquals(1.0, rec, 1e-9, what);
        } else {
          assertTrue(rec >= 0.95 * unfiltered, what);
        }
      }
    }
  }

  @Test
  void thePlanRecallsAtLeastAsMuchAsAnAcceptOnlySearchAtTheRequestsNprobe() {
    for (int percent : new int[] {1, 10, 50}) {
      RoaringBitmap accepted = passing(percent);
      int[][] truth = truth(accepted);
      SearchResults naive = new SearchResults(queries.rows(), K);
      index.search(SearchContext.of(prepared, PARAMS, naive).accept(accepted::contains));
      double planned = recall(truth, run(new FilteredSearch(index, accepted,
          FilteredSearchTest::gather, PARAMS)));
      double acceptOnly = recall(truth, naive);
      assertTrue(planned >= acceptOnly, percent + "%: plan " + planned + " < accept-only "
          + acceptOnly);
    }
  }

  @Test
  void queriesThatComeBackShortAreSearchedAgainWider() {
    RoaringBitmap accepted = passing(1);
    FilteredSearch fs = new FilteredSearch(index, accepted, FilteredSearchTest::gather, PARAMS,
        new FilterPlan(false, 1));
    SearchResults r = run(fs);
    assertTrue(fs.passes() > 1, "widened passes: " + fs.passes());
    for (int q = 0; q < queries.rows(); q++) {
      assertEquals(K, r.idsOf(q).length);
    }
  }

  @Test
  void anEmptyFilterFindsNothingAndTheDefaultPlanIsExactForOnePercent() {
    FilteredSearch none = new FilteredSearch(index, new RoaringBitmap(), FilteredSearchTest::gather,
        PARAMS);
    assertEquals(0, run(none).idsOf(0).length);
    assertTrue(new FilteredSearch(index, passing(1), FilteredSearchTest::gather, PARAMS).plan().exact());
    assertFalse(new FilteredSearch(index, passing(50), FilteredSearchTest::gather, PARAMS).plan().exact());
  }
}
