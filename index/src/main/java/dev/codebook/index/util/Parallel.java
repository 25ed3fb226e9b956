package dev.codebook.index.util;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/** A parallel for-loop over task numbers for bulk jobs (encoding, rotating, assigning). */
public final class Parallel {

  private Parallel() {}

  /**
   * Runs {@code body} for every task in {@code [0, tasks)} on at most {@code threads} threads, the
   * calling one included, handed out from a shared counter so uneven tasks balance. Helper
   * threads live for this call only. A task's exception is rethrown here.
   */
  public static void forEach(int tasks, int threads, String threadName, IntConsumer body) {
    int helpers = Math.min(threads, tasks) - 1;
    if (helpers <= 0) {
      for (int t = 0; t < tasks; t++) {
        body.accept(t);
      }
      return;
    }
    AtomicInteger next = new AtomicInteger();
    Runnable worker = () -> {
      int t;
      while ((t = next.getAndIncrement()) < tasks) {
        body.accept(t);
      }
    };
    ExecutorService pool = Executors.newFixedThreadPool(helpers, r -> {
      Thread th = new Thread(r, threadName);
      th.setDaemon(true);
      return th;
    });
    try {
      List<Future<?>> futures = new ArrayList<>(helpers);
      for (int i = 0; i < helpers; i++) {
        futures.add(pool.submit(worker));
      }
      worker.run();
      for (Future<?> f : futures) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(threadName + " interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }
}
