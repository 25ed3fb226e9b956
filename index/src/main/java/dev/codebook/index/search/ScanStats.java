package dev.codebook.index.search;

/**
 * Work searches did on the current thread, for the server's metrics: PQ codes scanned and
 * vectors scored exactly (flat search, re-ranking). Indexes count into their {@link
 * dev.codebook.index.SearchContext}; the collection's search adds a call's counts here when it
 * ends, and a caller reads {@link #codes()} and {@link #exact()} before and after a search on the
 * same thread and takes the difference. Counters only, never search buffers.
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
