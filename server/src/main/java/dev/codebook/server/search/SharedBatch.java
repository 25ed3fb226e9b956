package dev.codebook.server.search;

import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.server.collection.Collection;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * One task's queries cut into chunks of {@code chunk} rows that any search thread may take: the
 * calling thread takes them first, helpers queued on the executor take the rest if they start
 * in time (a helper that finds none left returns at once). The caller then waits only for
 * chunks other threads are searching, never for a helper still in the queue.
 *
 * <p>Threading: chunks are handed out by one atomic counter; each chunk's rows are written
 * before the count of unfinished chunks drops, so whoever sees it reach zero sees all rows.
 */
final class SharedBatch {

  private final SearchScheduler scheduler;
  private final SearchTask task;
  private final FloatMatrix queries;
  private final BooleanSupplier cancelled;
  private final int n;
  private final int chunk;
  private final int chunks;
  private final Collection.Hit[][] out;
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger unfinished;
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private final AtomicReference<RuntimeException> failure = new AtomicReference<>();

  SharedBatch(SearchScheduler scheduler, SearchTask task, FloatMatrix queries, int chunk,
      BooleanSupplier cancelled) {
    this.scheduler = scheduler;
    this.task = task;
    this.queries = queries;
    this.cancelled = cancelled;
    this.n = queries.rows();
    this.chunk = chunk;
    this.chunks = (n + chunk - 1) / chunk;
    this.out = new Collection.Hit[n][];
    this.unfinished = new AtomicInteger(chunks);
  }

  int chunks() {
    return chunks;
  }

  /** A helper's turn: searches chunks until none is left. */
  void help() {
    searchChunks(true);
  }

  /** Searches chunks until none is left; a helper counts each in the metrics. */
  private void searchChunks(boolean helper) {
    for (int c; (c = next.getAndIncrement()) < chunks; ) {
      int from = c * chunk;
      int to = Math.min(n, from + chunk);
      try {
        if (failure.get() == null) {
          Collection.Hit[][] part = scheduler.countedSearch(task, queries.slice(from, to), null,
              cancelled);
          System.arraycopy(part, 0, out, from, part.length);
          if (helper) {
            scheduler.helped(task);
          }
        }
      } catch (RuntimeException e) {
        failure.compareAndSet(null, e);
      } finally {
        // Each chunk's rows (and count) are written before its count drops: whoever sees
        // zero sees all, so the answer never goes out ahead of them.
        if (unfinished.decrementAndGet() == 0) {
          done.complete(null);
        }
      }
    }
  }

  /** The caller's part: searches chunks, waits for those other threads took, and answers. */
  Collection.Hit[][] searchAndAwait() {
    searchChunks(false);
    try {
      done.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CancellationException("the search was interrupted");
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause()); // never completed exceptionally
    }
    RuntimeException e = failure.get();
    if (e != null) {
      throw e;
    }
    return out;
  }
}
