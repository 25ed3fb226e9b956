package dev.codebook.index.search;

/**
 * Work searches did on the current thread, for metrics: PQ codes scanned and vectors scored
 * exactly (flat search, re-ranking). Counted per thread, without contention on the hot path; a
 * caller reads {@link #codes()} and {@link #exact()} before and after a search on the same
 * thread and takes the difference.
 */
public final class ScanStats {

  private static final ThreadLocal<long[]> COUNTS = ThreadLocal.withInitial(() -> new long[2]);

  private ScanStats() {}

  /** Codes scanned on this thread so far. */
  public static long codes() {
    return COUNTS.get()[0];
  }

  /** Vectors scored exactly on this thread so far. */
  public static long exact() {
    return COUNTS.get()[1];
  }

  /** Counts {@code codes} scanned and {@code exact} vectors scored on this thread. */
  public static void add(long codes, long exact) {
    long[] c = COUNTS.get();
    c[0] += codes;
    c[1] += exact;
  }
}
