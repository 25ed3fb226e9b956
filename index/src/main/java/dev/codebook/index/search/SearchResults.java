package dev.codebook.index.search;

import java.util.Arrays;

/**
 * Top-k answers for a batch of queries, best first, in two flat arrays: query {@code q}'s
 * results sit at {@code [q*k, q*k + count(q))}. Missing slots (fewer than k candidates) hold id
 * {@code -1} and score negative infinity, as in FAISS.
 */
public final class SearchResults {

  private final int queries;
  private final int k;
  private final int[] ids;
  private final float[] scores;

  public SearchResults(int queries, int k) {
    this.queries = queries;
    this.k = k;
    this.ids = new int[Math.multiplyExact(queries, k)];
    this.scores = new float[ids.length];
    Arrays.fill(ids, -1);
    Arrays.fill(scores, Float.NEGATIVE_INFINITY);
  }

  public int queries() {
    return queries;
  }

  public int k() {
    return k;
  }

  /** Backing id array, {@code queries * k} long. */
  public int[] ids() {
    return ids;
  }

  /** Backing score array, higher is better. */
  public float[] scores() {
    return scores;
  }

  public int id(int query, int rank) {
    return ids[query * k + rank];
  }

  public float score(int query, int rank) {
    return scores[query * k + rank];
  }

  /** Ids of one query's results, best first, without the {@code -1} padding. */
  public int[] idsOf(int query) {
    int from = query * k;
    int n = 0;
    while (n < k && ids[from + n] >= 0) {
      n++;
    }
    return Arrays.copyOfRange(ids, from, from + n);
  }

  /** Writes a drained heap into query {@code query}'s slots. */
  public void fill(int query, TopK heap) {
    heap.drainBestFirst(ids, scores, query * k);
  }
}
