package dev.codebook.index.search;

/**
 * Which ordinals a search may return: deletes (tombstones) and attribute filters become one of
 * these once per query. Scanners ask only about candidates that already beat the top-k
 * threshold, so a filter costs per candidate, not per scanned code. {@code null} means accept
 * everything, which keeps the unfiltered hot path free of the call.
 */
@FunctionalInterface
public interface AcceptOrds {

  boolean accept(int ord);
}
