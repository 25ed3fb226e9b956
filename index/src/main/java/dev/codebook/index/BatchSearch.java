package dev.codebook.index;

import dev.codebook.index.search.SearchResults;
import dev.codebook.index.vector.FloatMatrix;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a query batch over several threads: queries are handed out in chunks from a shared
 * counter so a slow chunk does not leave a thread idle. The library's own pool of daemon
 * threads is used; a server passes its bounded executor instead.
 */
public final class BatchSearch {

  /** Fewest queries a work item: enough to amortize blocking. */
  static final int CHUNK = 32;

  private static final ExecutorService POOL =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "codebook-search");
            t.setDaemon(true);
            return t;
          });

  private BatchSearch() {}

  /** Searches every query of {@code queries} for the top {@code k} with {@code threads} threads. */
  public static SearchResults search(
      VectorIndex index, FloatMatrix queries, int k, SearchParams params, int threads) {
    return search(index, queries, k, params, threads, POOL);
  }

  public static SearchResults search(
      VectorIndex index, FloatMatrix queries, int k, SearchParams params, int threads,
      ExecutorService executor) {
    if (k <= 0) {
      throw new IllegalArgumentException("k must be positive, got " + k);
    }
    if (threads <= 0) {
      throw new IllegalArgumentException("threads must be positive, got " + threads);
    }
    FloatMatrix prepared = index.prepareQueries(queries);
    SearchResults out = new SearchResults(prepared.rows(), k);
    int n = prepared.rows();
    if (threads == 1 || n <= CHUNK) {
      index.search(prepared, 0, n, params, out);
      return out;
    }
    AtomicInteger next = new AtomicInteger();
    // Two chunks a thread or more: large enough for an index that scans a batch list by list to
    // read each list once for many queries, small enough to even out the threads.
    int chunk = Math.max(CHUNK, n / (2 * threads));
    Runnable worker =
        () -> {
          int from;
          while ((from = next.getAndAdd(chunk)) < n) {
            index.search(prepared, from, Math.min(n, from + chunk), params, out);
          }
        };
    List<Future<?>> futures = new ArrayList<>(threads);
    for (int t = 0; t < threads; t++) {
      futures.add(executor.submit(worker));
    }
    try {
      for (Future<?> f : futures) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      futures.forEach(f -> f.cancel(true));
      throw new IllegalStateException("search interrupted", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException re) {
        throw re;
      }
      if (c instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(c);
    }
    return out;
  }
}
