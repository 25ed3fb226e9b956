package dev.codebook.server.search;

import java.util.concurrent.RejectedExecutionException;

/**
 * A search the {@link SearchScheduler} could not take: its queue was full, or the server is
 * shutting down ({@link #shutdown()}).
 */
public final class SearchRejectedException extends RejectedExecutionException {

  private static final long serialVersionUID = 1L;

  private final boolean shutdown;
  private final int threads;
  private final int queueCapacity;

  SearchRejectedException(boolean shutdown, int threads, int queueCapacity,
      RejectedExecutionException cause) {
    super(shutdown ? "the search executor is shut down"
        : "search queue full (" + threads + " search threads, " + queueCapacity
            + " queued searches)", cause);
    this.shutdown = shutdown;
    this.threads = threads;
    this.queueCapacity = queueCapacity;
  }

  /** True when the server is shutting down, false when the queue was full. */
  public boolean shutdown() {
    return shutdown;
  }

  /** The search threads. */
  public int threads() {
    return threads;
  }

  /** The capacity of the queue of searches waiting for a thread. */
  public int queueCapacity() {
    return queueCapacity;
  }
}
