package dev.codebook.index.ivf;

import dev.codebook.index.search.TopK;
import dev.codebook.index.vector.FloatMatrix;

/**
 * How far an index's centroid pre-selection can be trusted, measured when the index is built.
 * The pre-selector ranks centroids by a 4-bit PQ code of each; whether that ranking keeps the
 * exact best lists among its top candidates depends on the data: on embeddings whose centroids
 * all score within a few hundredths of each other (strongly anisotropic models such as e5) the
 * code's error reorders them, on well-spread data 32 candidates find every best list. So a build
 * probes a seeded sample of its own training rows both ways and keeps
 *
 * <ul>
 *   <li>{@code floor}: the fewest candidates scored exactly (32, 64, 128, ...) with which
 *       pre-selection finds at least {@value #TARGET} of the exact best lists at every nprobe
 *       1, 2, 4, 8 and 16 (or up to the largest nprobe that can pre-select), or 0 when no floor under
 *       1/{@value CoarseQuantizer#FAST_PROBE_RATIO} of the lists does: then the index scores
 *       every centroid, as FAISS does;
 *   <li>{@code maxNprobe}: the largest power-of-two nprobe up to which that still holds with
 *       {@code max(floor, }{@value CoarseQuantizer#FAST_PROBE_OVERSAMPLE}{@code  x nprobe)}
 *       candidates; larger probes score every centroid.
 * </ul>
 *
 * Both depend on the index alone, never on a query's batch, so a query gets the same lists alone
 * and in any batch. How the target and the floors were chosen:
 * docs/bench/2026-12-07/search-constants.md.
 *
 * @param floor fewest candidates a pre-selection scores exactly; 0: never pre-select
 * @param maxNprobe largest nprobe that pre-selects
 */
public record PreselectorCalibration(int floor, int maxNprobe) {

  /** Share of the exact best lists pre-selection must find on the build's sample. */
  static final double TARGET = 0.995;

  /** Rows of the training sample the calibration probes with. */
  static final int SAMPLE_ROWS = 256;

  /** Smallest floor tried. */
  static final int MIN_FLOOR = 32;

  /**
   * What an index written before calibration existed does: 128 candidates at least, at every
   * nprobe the candidate ratio allows.
   */
  public static final PreselectorCalibration UNCALIBRATED =
      new PreselectorCalibration(128, Integer.MAX_VALUE);

  /** No pre-selection: every centroid is scored. */
  public static final PreselectorCalibration OFF = new PreselectorCalibration(0, 0);

  public PreselectorCalibration {
    if (floor < 0 || maxNprobe < 0 || (floor == 0) != (maxNprobe == 0)) {
      throw new IllegalArgumentException(
          "pre-selector calibration: floor " + floor + ", max nprobe " + maxNprobe);
    }
  }

  /** Whether a probe of {@code nprobe} lists pre-selects. */
  boolean preselects(int nprobe, int nlist) {
    return floor > 0 && nprobe <= maxNprobe && fits(floor, nprobe, nlist);
  }

  /** Candidate lists scored exactly to probe {@code nprobe}. */
  int candidates(int nprobe) {
    return candidates(floor, nprobe);
  }

  private static int candidates(int floor, int nprobe) {
    return (int) Math.max(floor, (long) nprobe * CoarseQuantizer.FAST_PROBE_OVERSAMPLE);
  }

  /**
   * Whether the candidates of a probe of {@code nprobe} lists stay under 1/{@value
   * CoarseQuantizer#FAST_PROBE_RATIO} of the lists, where pre-selection can pay.
   */
  private static boolean fits(int floor, int nprobe, int nlist) {
    return (long) candidates(floor, nprobe) * CoarseQuantizer.FAST_PROBE_RATIO <= nlist;
  }

  /**
   * Calibrates {@code coarse}'s pre-selector on {@code sample} (rows prepared as queries are:
   * rotated and normalized as the index does), taking at most {@value #SAMPLE_ROWS} of them.
   */
  static PreselectorCalibration calibrate(CoarseQuantizer coarse, FloatMatrix sample) {
    int nlist = coarse.nlist();
    int rows = Math.min(SAMPLE_ROWS, sample.rows());
    if (!coarse.hasPreselector() || rows == 0) {
      return OFF;
    }
    int maxP = 1;
    while (fits(MIN_FLOOR, 2 * maxP, nlist)) {
      maxP *= 2;
    }
    // Spread over the sample: every (sample.rows() / rows)-th row.
    int step = sample.rows() / rows;
    int[][] exact = new int[rows][];
    TopK heap = new TopK(maxP);
    float[] scores = new float[maxP];
    for (int r = 0; r < rows; r++) {
      coarse.probe(sample.data(), sample.offset(r * step), heap);
      exact[r] = new int[maxP];
      heap.drainBestFirst(exact[r], scores, 0);
    }
    Probe probe = new Probe(coarse, sample, step, exact, coarse.newProbeScratch());
    int check = Math.min(16, maxP);
    for (int floor = MIN_FLOOR; fits(floor, 1, nlist); floor *= 2) {
      int maxNprobe = 0;
      for (int p = 1; p <= maxP; p *= 2) {
        if (!fits(floor, p, nlist) || probe.found(floor, p) < TARGET) {
          break;
        }
        maxNprobe = p;
      }
      if (maxNprobe >= check) {
        return new PreselectorCalibration(floor, maxNprobe);
      }
    }
    return OFF;
  }

  /** The sample's exact best lists, and pre-selection's share of them. */
  private record Probe(CoarseQuantizer coarse, FloatMatrix sample, int step, int[][] exact,
      CoarseQuantizer.ProbeScratch scratch) {

    double found(int floor, int nprobe) {
      int candidates = candidates(floor, nprobe);
      TopK heap = new TopK(nprobe);
      int[] ids = new int[nprobe];
      float[] scores = new float[nprobe];
      long hit = 0;
      for (int r = 0; r < exact.length; r++) {
        coarse.preselectWith(sample.data(), sample.offset(r * step), candidates, heap, scratch);
        int n = heap.drainBestFirst(ids, scores, 0);
        for (int i = 0; i < nprobe; i++) {
          int want = exact[r][i];
          for (int j = 0; j < n; j++) {
            if (ids[j] == want) {
              hit++;
              break;
            }
          }
        }
      }
      return hit / (double) ((long) exact.length * nprobe);
    }
  }
}
