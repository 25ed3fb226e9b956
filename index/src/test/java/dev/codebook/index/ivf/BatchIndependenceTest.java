package dev.codebook.index.ivf;

import dev.codebook.index.SearchContext;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A query's answer does not depend on its batch: over 1,024 lists, where the coarse probe
 * pre-selects at small nprobe and scores every centroid above it, each query gets the same ids
 * searched alone, at every position of batches of several sizes, and in a batch scanned list by
 * list. A server merges unrelated one-query calls into batches, and bench compares batched with
 * one-per-call searches: both rely on this.
 */
class BatchIndependenceTest {

  static final int NLIST = 1024;

  /**
   * Points around two centres: a thousand lists crowd into two clusters, with near ties by the
   * hundred, where the pre-selecting probe misses some of the exact best lists, so a query whose
   * probe kind depended on its batch would get other ids.
   */
  static FloatMatrix crowded(Random r, int rows, int dim) {
    return IvfPqIndexTest.mixture(r, rows, dim, 11, 2);
  }

  @ParameterizedTest
  @CsvSource({"'IVF1024,PQ16x4fs,RFlat',COSINE", "'IVF1024,PQ16x4fsr',EUCLIDEAN",
      "'IVF1024,PQ16',DOT_PRODUCT"})
  void everyQueryGetsTheSameIdsAloneAtEveryPositionOfABatchAndListByList(String spec,
      Similarity similarity) {
    Random r = new Random(spec.hashCode());
    int dim = 32;
    FloatMatrix base = crowded(r, 16_000, dim);
    FloatMatrix raw = crowded(r, 64, dim);
    // Pre-selection as an index written before calibration does it, on data where it misses
    // lists: the build's calibration would turn it off here, and then only one probe kind ran.
    IvfPqIndex index = (IvfPqIndex) IndexFactory.create(IndexSpec.parse(spec), dim, similarity,
        base, IvfPqIndexTest.OPTS.withPreselection(PreselectorCalibration.UNCALIBRATED));
    index.add(base);
    FloatMatrix queries = index.prepareQueries(raw);
    int n = queries.rows(), k = 100;
    CoarseQuantizer coarse = index.coarse();
    int lastPreselected = NLIST / CoarseQuantizer.FAST_PROBE_RATIO
        / CoarseQuantizer.FAST_PROBE_OVERSAMPLE;
    assertTrue(coarse.preselects(1) && coarse.preselects(lastPreselected)
        && !coarse.preselects(lastPreselected + 1), "both probe kinds are exercised");
    for (int nprobe : new int[] {1, lastPreselected, lastPreselected + 1, 64}) {
      SearchParams params = new SearchParams(nprobe, 2);
      SearchResults alone = new SearchResults(n, k);
      for (int q = 0; q < n; q++) {
        index.search(SearchContext.of(queries, params, alone).range(q, q + 1));
      }
      // Sliding windows: every query at every position of batches of these sizes.
      for (int size : new int[] {2, 3, 5, 16}) {
        for (int start = 1 - size; start < n; start++) {
          int from = Math.max(0, start), to = Math.min(n, start + size);
          SearchResults batch = new SearchResults(n, k);
          index.search(SearchContext.of(queries, params, batch).range(from, to));
          for (int q = from; q < to; q++) {
            assertArrayEquals(alone.idsOf(q), batch.idsOf(q), spec + " nprobe " + nprobe
                + ": query " + q + " at row " + (q - from) + " of a batch of " + (to - from));
          }
        }
      }
      // The whole batch, scanned query by query and list by list (where the spec allows it).
      for (long listMajorFrom : new long[] {Long.MAX_VALUE, 0}) {
        index.listMajorMinCodeBytes(listMajorFrom);
        SearchResults all = new SearchResults(n, k);
        index.search(SearchContext.of(queries, params, all));
        for (int q = 0; q < n; q++) {
          assertArrayEquals(alone.idsOf(q), all.idsOf(q), spec + " nprobe " + nprobe
              + ": query " + q + " in a batch of " + n + (listMajorFrom == 0
                  ? " scanned list by list" : ""));
        }
      }
      index.listMajorMinCodeBytes(IvfPqIndex.LIST_MAJOR_MIN_CODE_BYTES);
    }
  }
}
