package dev.codebook.index.ivf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.search.TopK;
import dev.codebook.index.vector.FloatMatrix;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The probe: exact below FAST_PROBE_MIN_NLIST lists, pre-selected by fast-scan above. */
class CoarseQuantizerTest {

  private static Set<Integer> exactBest(CoarseQuantizer cq, float[] q, int nprobe) {
    TopK heap = new TopK(nprobe);
    cq.probe(q, 0, heap);
    int[] ids = new int[nprobe];
    heap.drainBestFirst(ids, null, 0);
    return Arrays.stream(ids).boxed().collect(Collectors.toSet());
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void preselectedProbesFindTheExactBestListsWithExactScores(boolean innerProduct) {
    Random r = new Random(innerProduct ? 1 : 2);
    int nlist = 2048, d = 48, nq = 40, nprobe = 16;
    FloatMatrix centroids = IvfPqIndexTest.mixture(r, nlist, d, 9);
    FloatMatrix queries = IvfPqIndexTest.mixture(r, nq, d, 9);
    CoarseQuantizer cq = CoarseQuantizer.build(centroids, innerProduct);
    assertTrue(cq.preselects(nprobe));
    assertFalse(cq.preselects(nlist / CoarseQuantizer.FAST_PROBE_OVERSAMPLE / 4));
    assertFalse(CoarseQuantizer.build(IvfPqIndexTest.mixture(r, 1000, d, 9), innerProduct)
        .preselects(1), "below FAST_PROBE_MIN_NLIST lists the probe is exhaustive");
    TopK[] heaps = new TopK[nq];
    for (int i = 0; i < nq; i++) {
      heaps[i] = new TopK(nprobe);
      // One query at a time: the pre-selection is for lone queries.
      cq.probeBatch(queries, i, i + 1, new TopK[] {heaps[i]}, cq.newProbeScratch());
    }
    int found = 0;
    for (int i = 0; i < nq; i++) {
      Set<Integer> exact = exactBest(cq, queries.row(i), nprobe);
      int[] ids = new int[nprobe];
      float[] scores = new float[nprobe];
      assertEquals(nprobe, heaps[i].drainBestFirst(ids, scores, 0));
      for (int j = 0; j < nprobe; j++) {
        found += exact.contains(ids[j]) ? 1 : 0;
        // Exact scores (dot product, or negated squared distance): inner-product residual
        // search adds them to every code's score.
        float expected = cq.score(queries.row(i), 0, ids[j]);
        assertEquals(expected, scores[j], 1e-4f * Math.max(1, Math.abs(expected)));
      }
    }
    assertEquals(nq * nprobe, found, "probed lists among the exact best");
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void batchedProbesOverSeveralCentroidBlocksFindTheExactBestLists(boolean innerProduct) {
    Random r = new Random(innerProduct ? 3 : 4);
    // 700 lists: two full blocks and a short one; 11 queries: groups of four and a remainder.
    int nlist = 2 * CoarseQuantizer.BLOCK + 188, d = 40, nq = 11, nprobe = 12;
    CoarseQuantizer cq = CoarseQuantizer.build(IvfPqIndexTest.mixture(r, nlist, d, 9),
        innerProduct);
    FloatMatrix queries = IvfPqIndexTest.mixture(r, nq, d, 9);
    TopK[] heaps = new TopK[nq];
    for (int i = 0; i < nq; i++) {
      heaps[i] = new TopK(nprobe);
      heaps[i].offer(123_456, Float.MAX_VALUE); // stale: the probe clears each heap first
    }
    cq.probeBatch(queries, 0, nq, heaps, cq.newProbeScratch());
    for (int i = 0; i < nq; i++) {
      int[] ids = new int[nprobe];
      float[] scores = new float[nprobe];
      assertEquals(nprobe, heaps[i].drainBestFirst(ids, scores, 0));
      assertEquals(exactBest(cq, queries.row(i), nprobe),
          Arrays.stream(ids).boxed().collect(Collectors.toSet()), "query " + i);
      // The batch's scores order lists as the metric does: the dot product, or for L2
      // 2 q.c - |c|^2, which is the negated squared distance plus |q|^2.
      double qq = innerProduct ? 0 : dev.codebook.index.vector.VectorUtil.squaredNorm(
          queries.row(i), 0, d);
      for (int j = 0; j < nprobe; j++) {
        double expected = cq.score(queries.row(i), 0, ids[j]) + qq;
        assertEquals(expected, scores[j], 1e-4 * Math.max(1, Math.abs(expected)));
      }
    }
  }

  /**
   * Found among the exact best lists by pre-selected lone-query probes at a small nprobe, on
   * centroids crowded into 20 clusters (about a hundred near ties each): the case the minimum of
   * 128 candidates ({@link PreselectorCalibration#UNCALIBRATED}, what a quantizer built without a
   * sample uses) is for.
   */
  private static double foundAtSmallNprobe(boolean innerProduct, int nprobe) {
    Random r = new Random(innerProduct ? 5 : 6);
    int nlist = 2048, d = 48, nq = 60;
    CoarseQuantizer cq = CoarseQuantizer.build(IvfPqIndexTest.mixture(r, nlist, d, 9), innerProduct);
    FloatMatrix queries = IvfPqIndexTest.mixture(r, nq, d, 9);
    assertTrue(cq.preselects(nprobe));
    int found = 0;
    for (int i = 0; i < nq; i++) {
      TopK heap = new TopK(nprobe);
      cq.probeBatch(queries, i, i + 1, new TopK[] {heap}, cq.newProbeScratch());
      int[] ids = new int[nprobe];
      heap.drainBestFirst(ids, null, 0);
      Set<Integer> exact = exactBest(cq, queries.row(i), nprobe);
      for (int id : ids) {
        found += exact.contains(id) ? 1 : 0;
      }
    }
    return found / (double) (nq * nprobe);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 4})
  void preselectedProbesAtSmallNprobeFindEveryExactBestListAmongNearTies(int nprobe) {
    for (boolean innerProduct : new boolean[] {true, false}) {
      double found = foundAtSmallNprobe(innerProduct, nprobe);
      // With only 8 x nprobe candidates: 3-48% at nprobe 1, 18-20% at 2, 35-38% at 4.
      assertEquals(1.0, found, "the share of the exact best lists found, inner product "
          + innerProduct);
    }
  }

  /** Query {@code i}'s probe, as ids and scores best first, when it is row {@code at} of {@code batch}. */
  private static float[][] probeAt(CoarseQuantizer cq, FloatMatrix batch, int at, int nprobe) {
    TopK[] heaps = new TopK[batch.rows()];
    for (int j = 0; j < heaps.length; j++) {
      heaps[j] = new TopK(nprobe);
    }
    cq.probeBatch(batch, 0, batch.rows(), heaps, cq.newProbeScratch());
    int[] ids = new int[nprobe];
    float[] scores = new float[nprobe];
    heaps[at].drainBestFirst(ids, scores, 0);
    float[] idsAsFloats = new float[nprobe];
    for (int j = 0; j < nprobe; j++) {
      idsAsFloats[j] = ids[j];
    }
    return new float[][] {idsAsFloats, scores};
  }

  /**
   * A query probes the same lists with the same scores alone and at every position of
   * batches of every size, whether the probe pre-selects or scores every centroid: a server
   * merges unrelated calls into one batch, and no answer may depend on that.
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aQueryProbesTheSameListsWithTheSameScoresAloneAndAtEveryPositionOfABatch(
      boolean innerProduct) {
    Random r = new Random(innerProduct ? 7 : 8);
    int nlist = 4096, d = 48, nq = 6;
    CoarseQuantizer cq = CoarseQuantizer.build(IvfPqIndexTest.mixture(r, nlist, d, 9), innerProduct);
    FloatMatrix queries = IvfPqIndexTest.mixture(r, nq, d, 9);
    FloatMatrix others = IvfPqIndexTest.mixture(r, 16, d, 9);
    int lastPreselected = nlist / CoarseQuantizer.FAST_PROBE_RATIO
        / CoarseQuantizer.FAST_PROBE_OVERSAMPLE;
    assertTrue(cq.preselects(2) && cq.preselects(lastPreselected));
    assertFalse(cq.preselects(lastPreselected + 1));
    for (int nprobe : new int[] {2, lastPreselected, lastPreselected + 1, 200}) {
      for (int i = 0; i < nq; i++) {
        float[][] alone = probeAt(cq, queries.slice(i, i + 1), 0, nprobe);
        for (int size : new int[] {2, 3, 4, 5, 8, 13}) {
          for (int at = 0; at < size; at++) {
            float[] rows = new float[size * d];
            for (int j = 0, o = 0; j < size; j++) {
              if (j != at) {
                System.arraycopy(others.data(), others.offset(o++ % others.rows()), rows,
                    j * d, d);
              }
            }
            System.arraycopy(queries.data(), queries.offset(i), rows, at * d, d);
            float[][] inBatch = probeAt(cq, new FloatMatrix(size, d, rows), at, nprobe);
            String where = "query " + i + ", nprobe " + nprobe + ", row " + at + " of " + size;
            assertArrayEquals(alone[0], inBatch[0], where + ": lists");
            // Equal but for the last bits: the pre-selection's exact scores sum a Vector API
            // dot product's lanes in whatever order the JIT tier running it picks (the same
            // call can change its last bit once C2 compiles it), which is not the batch's doing.
            for (int j = 0; j < nprobe; j++) {
              assertEquals(alone[1][j], inBatch[1][j], 4 * Math.ulp(alone[1][j]),
                  where + ": score " + j);
            }
          }
        }
      }
    }
  }
}
