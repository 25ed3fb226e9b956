package dev.codebook.loadtest.bench;

import dev.codebook.index.search.SearchResults;
import dev.codebook.index.vector.IntMatrix;

/** Recall against exact ground truth, the ann-benchmarks way. */
public final class Recall {

  private Recall() {}

  /**
   * Mean over queries of |returned top-{@code r} ∩ true top-{@code r}| / r. With {@code r = 1}
   * this is recall@1: whether the first id is the true nearest neighbour.
   */
  public static double at(SearchResults results, IntMatrix truth, int r) {
    if (truth.cols() < r) {
      throw new IllegalArgumentException(
          "ground truth has " + truth.cols() + " neighbours per query, recall@" + r + " needs " + r);
    }
    if (results.k() < r) {
      throw new IllegalArgumentException("searched top-" + results.k() + ", recall@" + r + " needs " + r);
    }
    int nq = results.queries();
    long hits = 0;
    for (int q = 0; q < nq; q++) {
      for (int i = 0; i < r; i++) {
        int id = results.id(q, i);
        if (id < 0) {
          continue;
        }
        for (int j = 0; j < r; j++) {
          if (truth.get(q, j) == id) {
            hits++;
            break;
          }
        }
      }
    }
    return hits / ((double) nq * r);
  }

  /** Fraction of the true top-{@code r} found anywhere in the returned top-{@code k}. */
  public static double rAtK(SearchResults results, IntMatrix truth, int r) {
    int nq = results.queries();
    int k = results.k();
    long hits = 0;
    for (int q = 0; q < nq; q++) {
      for (int j = 0; j < r; j++) {
        int want = truth.get(q, j);
        for (int i = 0; i < k; i++) {
          if (results.id(q, i) == want) {
            hits++;
            break;
          }
        }
      }
    }
    return hits / ((double) nq * r);
  }
}
