package dev.codebook.index.filter;

/**
 * How a filtered search runs, chosen by how many vectors the filter accepts. An IVF index probing
 * {@code nprobe} of {@code nlist} lists sees about {@code nprobe/nlist} of the vectors, and of
 * those only the accepted fraction {@code s} can be returned; so a restrictive filter starves the
 * top-k and recall drops. Two remedies, picked here by their cost:
 *
 * <ul>
 *   <li><b>index</b>: search the index with the filter as accept-ordinals and {@code nprobe}
 *       raised to {@code ceil(nprobe / s)} (capped at nlist), so about as many accepted
 *       candidates are scanned as an unfiltered search would scan; a query that still finds fewer
 *       than k is searched again with nprobe doubled ({@link #widen}). It scans about {@code
 *       size * nprobe' / nlist} codes.
 *   <li><b>exact</b>: score the accepted rows from the full vectors: recall 1. Chosen when that
 *       is cheaper, at {@link #EXACT_ROW_COST} scanned codes per row, than the index path's scan;
 *       over an exact index (Flat), whenever at most half the rows pass.
 * </ul>
 *
 * @param exact score the accepted rows exactly
 * @param nprobe lists to probe on the index path (unchanged for non-IVF indexes)
 */
public record FilterPlan(boolean exact, int nprobe) {

  /**
   * What scoring one accepted row exactly costs, in codes scanned on the widened index path.
   * Measured on debian-minilm (28,000 x 384, IVF64,PQ48x4fs,RFlat, nprobe 8, rerank 10, one query
   * per call): exact costs 0.2 us per row (a random 1.5 kB row read dominates), the index path
   * 0.28 ms at full width with 5% passing, which breaks even near 1,400 rows = 28,000 codes / 20.
   */
  public static final int EXACT_ROW_COST = 20;

  /**
   * @param accepted vectors the filter accepts (tombstones removed)
   * @param size vectors in the index
   * @param nprobe the request's nprobe
   * @param nlist the index's lists, 0 for an index without IVF
   * @param exactIndex whether the index itself scores exactly (Flat): then gathering pays off
   *     whenever fewer than half the rows pass
   */
  public static FilterPlan choose(long accepted, long size, int nprobe, int nlist,
      boolean exactIndex) {
    if (exactIndex) {
      return new FilterPlan(accepted * 2 <= size, nprobe);
    }
    int widened = nprobe;
    if (nlist > 1 && accepted > 0 && accepted < size) {
      widened = (int) Math.min(nlist, Math.max(nprobe, Math.ceil((double) nprobe * size / accepted)));
    }
    double scanned = nlist > 1 ? (double) size * Math.min(widened, nlist) / nlist : size;
    return new FilterPlan(accepted * (double) EXACT_ROW_COST <= scanned, widened);
  }

  /** The nprobe for another pass after one that found fewer than k: doubled, capped at nlist. */
  public static int widen(int nprobe, int nlist) {
    return (int) Math.min(nlist, 2L * nprobe);
  }
}
