package dev.codebook.index.util;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.ObjIntConsumer;
import java.util.function.Supplier;

/**
 * The one parallel for-loop of the library: numbered tasks {@code [0, tasks)} handed out from a
 * shared counter, so a slow task does not leave a thread idle, on at most {@link #threads()}
 * threads, the calling one included. Bulk encoding and rotation, the trainers and batch search
 * all run through it.
 *
 * <p>The task numbers and their bounds are the caller's and never depend on the thread count; a
 * task that writes its own result slot, combined by the caller in task order, gives the same
 * output on 1 or 16 threads (what makes a trainer deterministic).
 *
 * <p>The first task to fail stops the hand-out; every running task is waited for and that first
 * failure is rethrown on the calling thread (a checked one wrapped in an {@link
 * IllegalStateException}). An interrupt of the calling thread cancels the helpers and throws
 * {@code IllegalStateException("<name> interrupted")} with the interrupt flag set again.
 * Cancellation by a caller's flag is the body's business: a body that throws {@link
 * java.util.concurrent.CancellationException} stops the loop like any other failure. Progress,
 * likewise, is reported by the body (the trainers' {@code TrainingProgress}).
 *
 * <p>Where the helper threads come from: a pool owned by this object ({@link #owned}, shut down
 * by {@link #close}, so a training call never leaves threads behind), an executor the caller
 * owns ({@link #on}, e.g. a server's bounded search executor), or the library's shared pool of
 * daemon threads ({@link #shared}). Instances are thread-safe; each {@link #run} is independent.
 */
public final class ParallelFor implements AutoCloseable {

  private static final ExecutorService SHARED =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "codebook-parallel");
            t.setDaemon(true);
            return t;
          });

  /** Runs everything on the calling thread; holds no pool, so it needs no closing. */
  public static final ParallelFor SERIAL = new ParallelFor(1, null, false, "serial");

  private final int threads;
  private final ExecutorService pool; // null: everything on the calling thread
  private final boolean ownsPool;
  private final String name;

  private ParallelFor(int threads, ExecutorService pool, boolean ownsPool, String name) {
    if (threads <= 0) {
      throw new IllegalArgumentException("threads must be positive, got " + threads);
    }
    this.threads = threads;
    this.pool = threads == 1 ? null : pool;
    this.ownsPool = ownsPool && this.pool != null;
    this.name = name;
  }

  /**
   * A loop over a fixed pool of {@code threads - 1} daemon threads named {@code name}, owned by
   * the result and shut down by {@link #close} (the calling thread is the last worker).
   */
  public static ParallelFor owned(int threads, String name) {
    if (threads <= 0) {
      throw new IllegalArgumentException("threads must be positive, got " + threads);
    }
    if (threads == 1) {
      return new ParallelFor(1, null, false, name);
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads - 1, r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
    return new ParallelFor(threads, pool, true, name);
  }

  /** A loop whose helpers run on {@code executor}, which the caller owns and shuts down. */
  public static ParallelFor on(ExecutorService executor, int threads, String name) {
    return new ParallelFor(threads, executor, false, name);
  }

  /** A loop whose helpers run on the library's shared pool of daemon threads. */
  public static ParallelFor shared(int threads, String name) {
    return new ParallelFor(threads, SHARED, false, name);
  }

  /**
   * Runs {@code body} for every task of {@code [0, tasks)} on at most {@code threads} threads,
   * with helper threads that live for this call only.
   */
  public static void forEach(int tasks, int threads, String name, IntConsumer body) {
    try (ParallelFor p = owned(Math.max(1, Math.min(threads, tasks)), name)) {
      p.run(tasks, body);
    }
  }

  public int threads() {
    return threads;
  }

  /** Runs {@code body.accept(task)} for every task of {@code [0, tasks)}; see the class doc. */
  public void run(int tasks, IntConsumer body) {
    run(tasks, () -> body, IntConsumer::accept, null);
  }

  /**
   * As {@link #run(int, IntConsumer)} with a state per worker: {@code state} is called once by
   * each worker before its first task, {@code body} gets it with every task that worker runs,
   * and {@code done} (or null) gets it when the worker stops, failed or not. Batch search gives
   * each worker its own search context (and so its own scratch) this way.
   */
  public <S> void run(int tasks, Supplier<S> state, ObjIntConsumer<S> body, Consumer<S> done) {
    if (tasks <= 0) {
      return;
    }
    AtomicInteger next = new AtomicInteger();
    Runnable worker =
        () -> {
          S s = state.get();
          try {
            int t;
            while ((t = next.getAndIncrement()) < tasks) {
              try {
                body.accept(s, t);
              } catch (RuntimeException | Error e) {
                next.set(tasks);
                throw e;
              }
            }
          } finally {
            if (done != null) {
              done.accept(s);
            }
          }
        };
    int helpers = pool == null ? 0 : Math.min(threads, tasks) - 1;
    if (helpers <= 0) {
      worker.run();
      return;
    }
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
        throw new IllegalStateException(name + " interrupted", e);
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

  /** Shuts down the pool this loop owns, if any. */
  @Override
  public void close() {
    if (ownsPool) {
      pool.shutdownNow();
    }
  }
}
