package dev.codebook.index.search;

/**
 * The work one search call did, for the server's metrics: PQ codes scanned and vectors scored
 * exactly (flat search, re-ranking). Indexes count into their {@link
 * dev.codebook.index.SearchContext}; the collection's search adds each context's counts to the
 * call's {@code ScanStats}, which the caller made and reads when the call returns. One call, one
 * thread: not thread-safe.
 */
public final class ScanStats {

  private long codes;
  private long exact;

  /** Codes scanned so far. */
  public long codes() {
    return codes;
  }

  /** Vectors scored exactly so far. */
  public long exact() {
    return exact;
  }

  /** Counts {@code codes} scanned and {@code exact} vectors scored. */
  public void add(long codes, long exact) {
    this.codes += codes;
    this.exact += exact;
  }
}
