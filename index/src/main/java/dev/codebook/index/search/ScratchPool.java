package dev.codebook.index.search;

import java.util.concurrent.ArrayBlockingQueue;

/**
 * A few idle scratch objects an index keeps between searches, not tied to any thread: a search
 * context takes one (or the index makes one) and gives it back when it closes. Bounded, so an
 * index holds at most {@link #capacity} of them whatever the number of threads that ever
 * searched it, and they go away with the index. Thread-safe.
 */
public final class ScratchPool<T> {

  /** Idle scratch objects kept by default: a few per core covers a server's search executor. */
  public static final int DEFAULT_CAPACITY =
      Math.max(4, 2 * Runtime.getRuntime().availableProcessors());

  private final ArrayBlockingQueue<T> idle;

  public ScratchPool() {
    this(DEFAULT_CAPACITY);
  }

  public ScratchPool(int capacity) {
    this.idle = new ArrayBlockingQueue<>(capacity);
  }

  public int capacity() {
    return idle.remainingCapacity() + idle.size();
  }

  /** An idle scratch object, or null when there is none. */
  public T poll() {
    return idle.poll();
  }

  /** Keeps {@code scratch} for a later {@link #poll}; dropped when the pool is full. */
  public void offer(T scratch) {
    idle.offer(scratch);
  }
}
