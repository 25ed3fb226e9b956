package dev.codebook.server.search;

import dev.codebook.index.filter.Filter;
import dev.codebook.index.search.ScanStats;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.server.collection.Collection;
import dev.codebook.server.metrics.ServerMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs checked searches on the bounded search executor, never on the caller's thread, and
 * decides who computes what; never the answer. Two sharings:
 *
 * <ul>
 *   <li><b>Merging.</b> The thread that takes a task with fewer than {@code maxBatch} queries
 *       also takes the compatible tasks queued right behind it (same collection, k, params and
 *       returned fields, no filter), up to {@code maxBatch} queries, and searches them as one
 *       batch: under load, one-query callers then share the batched kernels' work (rotation,
 *       coarse probe, score tables as matrix products). An idle server answers each task alone,
 *       with no waiting for company.
 *   <li><b>Splitting.</b> A batch of at least {@link #MIN_SPLIT_QUERIES} queries on a server with
 *       no task waiting is cut into chunks that idle search threads help with ({@link
 *       SharedBatch}), as FAISS spreads a batch over its threads.
 * </ul>
 *
 * <p>A search's answer is the same alone, merged or split: every query is searched with the
 * same parameters over the same snapshot rules ({@code BatchIndependenceTest} in the index).
 *
 * <p>Threading: {@link #submit} is called from transport threads; everything else runs on the
 * executor's threads. A task whose caller went away while it queued is answered with a
 * CancellationException and not searched; a merged batch stops early only when every caller in
 * it has gone.
 */
public final class SearchScheduler {

  private static final Logger LOG = LoggerFactory.getLogger(SearchScheduler.class);

  /** Calls with at least this many queries are shared out over the search threads. */
  public static final int MIN_SPLIT_QUERIES = 16;

  /** The message of a CancellationException for a caller that left before its search began. */
  static final String LEFT_WHILE_QUEUED = "the search waited in the queue";

  private final ThreadPoolExecutor executor;
  private final int queueCapacity;
  private final int maxBatch;
  private final ServerMetrics metrics;

  /**
   * @param executor the bounded search executor
   * @param queueCapacity the capacity of its queue, for the rejection's message
   * @param maxBatch most queries merged from queued tasks into one search; 1 for none
   */
  public SearchScheduler(ThreadPoolExecutor executor, int queueCapacity, int maxBatch,
      ServerMetrics metrics) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be positive, got " + maxBatch);
    }
    this.executor = executor;
    this.queueCapacity = queueCapacity;
    this.maxBatch = maxBatch;
    this.metrics = metrics;
  }

  /**
   * Queues {@code task}; its listener hears the outcome on a search thread.
   *
   * @throws SearchRejectedException when the queue is full or the executor shut down (the
   *     listener then hears nothing)
   */
  public void submit(SearchTask task) {
    try {
      executor.execute(new Queued(task));
    } catch (RejectedExecutionException e) {
      throw new SearchRejectedException(executor.isShutdown(), executor.getMaximumPoolSize(),
          queueCapacity, e);
    }
  }

  /**
   * Rows in a chunk of a shared batch of {@code n}: about four chunks a thread, so that a thread
   * joining late still finds work, and at least half of {@link #MIN_SPLIT_QUERIES}, so that each
   * chunk keeps the batched kernels (rotation, coarse probe, tables) busy.
   */
  public static int chunkRows(int n, int threads) {
    return Math.max(MIN_SPLIT_QUERIES / 2, (n + 4 * threads - 1) / (4 * threads));
  }

  /** A task in the executor's queue; the thread that runs it may take followers along. */
  private final class Queued implements Runnable {
    final SearchTask task;

    Queued(SearchTask task) {
      this.task = task;
    }

    @Override
    public void run() {
      List<SearchTask> tasks = maxBatch > 1 && task.filter() == null
          && task.queries().rows() < maxBatch ? withFollowers() : List.of(task);
      if (tasks.size() == 1) {
        task.listener().runAsCaller(() -> searchAlone(task));
      } else {
        searchTogether(tasks);
      }
    }

    /**
     * This task and the compatible tasks at the head of the queue, taken off it; but never the
     * tasks an idle search thread would take next: merging those would serialize on this thread
     * work another could run now (docs/bench/2026-12-07/search-constants.md: with two threads
     * and four callers, merging regardless cost 30% of the throughput).
     */
    private List<SearchTask> withFollowers() {
      BlockingQueue<Runnable> queue = executor.getQueue();
      List<SearchTask> tasks = null;
      int rows = task.queries().rows();
      while (rows < maxBatch && queue.size() > idleThreads()) {
        if (!(queue.peek() instanceof Queued next) || !next.task.joins(task, maxBatch - rows)) {
          break;
        }
        if (queue.remove(next)) { // false: another search thread took it first
          if (tasks == null) {
            tasks = new ArrayList<>();
            tasks.add(task);
          }
          tasks.add(next.task);
          rows += next.task.queries().rows();
        }
      }
      return tasks == null ? List.of(task) : tasks;
    }
  }

  /** Search threads not running a task (this thread runs one). */
  private int idleThreads() {
    return Math.max(0, executor.getMaximumPoolSize() - executor.getActiveCount());
  }

  private void searchAlone(SearchTask task) {
    SearchListener listener = task.listener();
    Collection.Hit[][] hits;
    try {
      if (listener.isCancelled()) {
        throw new CancellationException(LEFT_WHILE_QUEUED);
      }
      hits = task.filter() == null
          ? search(task, task.queries(), listener::isCancelled)
          : countedSearch(task, task.queries(), task.filter(), listener::isCancelled);
    } catch (RuntimeException e) {
      listener.onError(e);
      return;
    }
    listener.onHits(hits, 0, hits.length);
  }

  /**
   * Searches compatible tasks as one batch and answers each with its own queries' rows. A task
   * whose caller left while it queued is answered at once and left out; the batch stops early
   * only when every caller in it has left.
   */
  private void searchTogether(List<SearchTask> queued) {
    List<SearchTask> tasks = new ArrayList<>(queued.size());
    int rows = 0;
    for (SearchTask t : queued) {
      if (t.listener().isCancelled()) {
        t.listener().onError(new CancellationException(LEFT_WHILE_QUEUED));
      } else {
        tasks.add(t);
        rows += t.queries().rows();
      }
    }
    if (tasks.size() <= 1) {
      for (SearchTask t : tasks) {
        t.listener().runAsCaller(() -> searchAlone(t));
      }
      return;
    }
    SearchTask first = tasks.get(0);
    FloatMatrix all = FloatMatrix.allocate(rows, first.queries().dim());
    int at = 0;
    for (SearchTask t : tasks) {
      float[] q = t.queries().data();
      System.arraycopy(q, 0, all.data(), at, q.length);
      at += q.length;
    }
    Collection.Hit[][] hits;
    try {
      hits = search(first, all, () -> allCancelled(tasks));
      metrics.mergedCalls(first.collection().id(), tasks.size());
    } catch (RuntimeException e) {
      for (SearchTask t : tasks) {
        answer(t, null, 0, 0, e);
      }
      return;
    }
    int from = 0;
    for (SearchTask t : tasks) {
      int to = from + t.queries().rows();
      answer(t, hits, from, to, null);
      from = to;
    }
  }

  /**
   * Answers one task of a merged search with rows {@code [from, to)} of {@code hits}, or {@code
   * error} when hits is null. A caller that ended meanwhile (its deadline passed) may refuse the
   * answer; the tasks after it in the batch must still get theirs.
   */
  private static void answer(SearchTask t, Collection.Hit[][] hits, int from, int to,
      RuntimeException error) {
    try {
      if (hits != null) {
        t.listener().onHits(hits, from, to);
      } else {
        t.listener().onError(error);
      }
    } catch (RuntimeException e) {
      LOG.debug("a merged search's call ended before its answer: {}", e.toString());
    }
  }

  /**
   * Searches {@code queries} with {@code task}'s collection and parameters, unfiltered: split
   * over the idle search threads when there are enough queries and no task waits (with tasks
   * waiting, the other threads have work of their own; helping would only reorder it).
   */
  private Collection.Hit[][] search(SearchTask task, FloatMatrix queries,
      BooleanSupplier cancelled) {
    int n = queries.rows();
    int threads = executor.getMaximumPoolSize();
    if (n < MIN_SPLIT_QUERIES || threads < 2 || !executor.getQueue().isEmpty()) {
      return countedSearch(task, queries, null, cancelled);
    }
    SharedBatch batch = new SharedBatch(this, task, queries, chunkRows(n, threads), cancelled);
    for (int h = Math.min(threads - 1, batch.chunks() - 1); h > 0; h--) {
      try {
        executor.execute(batch::help);
      } catch (RejectedExecutionException e) {
        break; // the queue filled meanwhile, or the server is stopping: fewer helpers
      }
    }
    return batch.searchAndAwait();
  }

  /** One search on this thread, counted in the metrics with the work it took. */
  Collection.Hit[][] countedSearch(SearchTask task, FloatMatrix queries, Filter filter,
      BooleanSupplier cancelled) {
    ScanStats work = new ScanStats();
    Collection.Hit[][] hits = task.collection().search(queries, task.k(), task.params(), filter,
        task.withValues(), task.withAttributes(), cancelled, work);
    metrics.queries(task.collection().id(), hits.length, work.codes(), work.exact());
    return hits;
  }

  /** Counts a chunk of a shared batch searched by a helping thread. */
  void helped(SearchTask task) {
    metrics.helpedChunk(task.collection().id());
  }

  private static boolean allCancelled(List<SearchTask> tasks) {
    for (int i = 0; i < tasks.size(); i++) {
      if (!tasks.get(i).listener().isCancelled()) {
        return false;
      }
    }
    return true;
  }
}
