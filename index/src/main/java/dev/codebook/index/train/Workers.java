package dev.codebook.index.train;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A fixed pool owned by one training call, closed when it ends, so a trainer never leaves threads
 * behind. Work is split into numbered tasks whose number and bounds do not depend on the thread
 * count; each task writes its own result slot and the caller combines the slots in task order.
 * That is what makes a trainer's output identical on 1 or 16 threads.
 */
final class Workers implements AutoCloseable {

  private final int threads;
  private final ExecutorService pool;

  Workers(int threads, String name) {
    if (threads <= 0) {
      throw new IllegalArgumentException("threads must be positive, got " + threads);
    }
    this.threads = threads;
    // The calling thread works too, so the pool needs one thread fewer.
    this.pool =
        threads == 1
            ? null
            : Executors.newFixedThreadPool(
                threads - 1,
                r -> {
                  Thread t = new Thread(r, name);
                  t.setDaemon(true);
                  return t;
                });
  }

  /** Runs everything on the calling thread; holds no pool, so it needs no closing. */
  static final Workers SERIAL = new Workers(1, "serial");

  int threads() {
    return threads;
  }

  /**
   * Runs {@code body.accept(task)} for every task in {@code [0, tasks)}, handed out from a shared
   * counter so a slow task does not leave a thread idle, and returns when all have finished. The
   * first failure stops the hand-out and is rethrown.
   */
  void run(int tasks, IntConsumer body) {
    if (tasks <= 0) {
      return;
    }
    if (pool == null || tasks == 1) {
      for (int t = 0; t < tasks; t++) {
        body.accept(t);
      }
      return;
    }
    AtomicInteger next = new AtomicInteger();
    Runnable worker =
        () -> {
          int t;
          while ((t = next.getAndIncrement()) < tasks) {
            try {
              body.accept(t);
            } catch (RuntimeException | Error e) {
              next.set(tasks);
              throw e;
            }
          }
        };
    int helpers = Math.min(threads, tasks) - 1;
    List<Future<?>> futures = new ArrayList<>(helpers);
    for (int i = 0; i < helpers; i++) {
      futures.add(pool.submit(worker));
    }
    Throwable failure = null;
    try {
      worker.run();
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (ExecutionException e) {
        if (failure == null) {
          failure = e.getCause();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        next.set(tasks);
        futures.forEach(g -> g.cancel(true));
        throw new IllegalStateException("training interrupted", e);
      }
    }
    if (failure instanceof RuntimeException re) {
      throw re;
    }
    if (failure instanceof Error err) {
      throw err;
    }
    if (failure != null) {
      throw new IllegalStateException(failure);
    }
  }

  @Override
  public void close() {
    if (pool != null) {
      pool.shutdownNow();
    }
  }
}
