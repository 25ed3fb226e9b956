package dev.codebook.server.search;

import dev.codebook.server.collection.Collection;

/**
 * Who hears a {@link SearchTask}'s outcome: the transport's side of a search (for gRPC, the
 * call's context and response observer). Exactly one of {@link #onHits} and {@link #onError} is
 * called, once, on a search thread.
 */
public interface SearchListener {

  /** Whether the caller has gone (cancelled, or its deadline passed): its search is skipped. */
  boolean isCancelled();

  /**
   * Runs {@code search} as part of the caller's request (for gRPC: in its {@code Context}); a
   * task searched alone runs in it.
   */
  default void runAsCaller(Runnable search) {
    search.run();
  }

  /**
   * The answer: rows {@code [from, to)} of {@code hits} are this task's queries, in order. A
   * merged search hands every task the same array with its own range.
   */
  void onHits(Collection.Hit[][] hits, int from, int to);

  /**
   * The failure: a {@link java.util.concurrent.CancellationException} when the caller went away
   * (before or during the search), a {@link dev.codebook.index.filter.FilterException} for a
   * filter that cannot match, else what the collection threw.
   */
  void onError(RuntimeException e);
}
