package dev.codebook.index.filter;

/**
 * How a filtered search runs, chosen by how many vectors the filter accepts. An IVF index probing
 * {@code nprobe} of {@code nlist} lists sees about {@code nprobe/nlist} of the vectors, and of
 * those only the accepted fraction {@code s} can be returned; so a restrictive filter starves the
 * top-k and recall drops. Two remedies, picked here:
 *
 * <ul>
 *   <li><b>exact</b>: when at most {@link #EXACT_MAX_ROWS} vectors pass (or, over an exact
 *       index, at most half of them), score exactly those rows from the full vectors: recall 1,
 *       and cheaper than any probe.
 *   <li><b>index</b>: otherwise search the index with the filter as accept-ordinals and {@code
 *       nprobe} raised to {@code ceil(nprobe / s)} (capped at nlist), so about as many accepted
 *       candidates are scanned as an unfiltered search would scan; if a query still finds fewer
 *       than k, {@link #widen} doubles nprobe and it is searched again.
 * </ul>
 *
 * @param exact score the accepted rows exactly
 * @param nprobe lists to probe on the index path (unchanged for non-IVF indexes)
 */
public record FilterPlan(boolean exact, int nprobe) {

  /**
   * Most accepted rows scored exactly. Measured on debian-minilm (384 d) with IVF64,PQ48x4fs,
   * RFlat: exact scoring costs about 0.1 us per row and query (gather included), the widened
   * index search 0.2-0.5 ms per query; they break even near a few thousand rows.
   */
  public static final int EXACT_MAX_ROWS = 4096;

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
    if (accepted <= EXACT_MAX_ROWS || (exactIndex && accepted * 2 <= size)) {
      return new FilterPlan(true, nprobe);
    }
    if (nlist <= 1 || accepted >= size) {
      return new FilterPlan(false, nprobe);
    }
    double widened = Math.ceil((double) nprobe * size / accepted);
    return new FilterPlan(false, (int) Math.min(nlist, Math.max(nprobe, widened)));
  }

  /** The nprobe for another pass after one that found fewer than k: doubled, capped at nlist. */
  public static int widen(int nprobe, int nlist) {
    return (int) Math.min(nlist, 2L * nprobe);
  }
}
