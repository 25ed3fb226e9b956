package dev.codebook.loadtest.load;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What the platform adds to every latency, measured the way jHiccup does: a thread that does
 * nothing but sleep {@code resolution} at a time records how much later than asked it woke up.
 * A stall it sees (the scheduler running something else on its CPU, the hypervisor taking the
 * virtual CPU away, a GC pause in this JVM) delays any call in flight at that moment, so its
 * p99 and max put the load test's own tail in proportion: a server cannot answer sooner than
 * the machine lets the client see the answer.
 *
 * <p>The meter wakes {@code 1 / resolution} times a second, a little load of its own; the load
 * test runs it only when asked ({@code --hiccups}).
 */
public final class HiccupMeter implements AutoCloseable {

  private final long resolutionNanos;
  private final Recorder recorder =
      new Recorder(LatencyStats.HIGHEST_MICROS, LatencyStats.DIGITS);
  private final Thread thread;
  private volatile boolean running = true;
  private Histogram interval;

  /** Starts a meter thread that sleeps {@code resolution} at a time. */
  public HiccupMeter(Duration resolution) {
    this.resolutionNanos = resolution.toNanos();
    if (resolutionNanos <= 0) {
      throw new IllegalArgumentException("resolution must be positive, got " + resolution);
    }
    thread = new Thread(this::run, "loadtest-hiccups");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    while (running) {
      long start = System.nanoTime();
      LockSupport.parkNanos(resolutionNanos);
      record(resolutionNanos, System.nanoTime() - start);
    }
  }

  /** Records one sleep of {@code askedNanos} that took {@code tookNanos}: its overshoot. */
  void record(long askedNanos, long tookNanos) {
    recorder.recordValue(LatencyStats.micros(Math.max(0, tookNanos - askedNanos)));
  }

  /**
   * The overshoots (microseconds) recorded since the previous call, or since the meter started:
   * call once before a phase to start afresh and once after it.
   */
  public synchronized Histogram sinceLast() {
    interval = recorder.getIntervalHistogram(interval);
    return interval.copy();
  }

  @Override
  public void close() {
    running = false;
    LockSupport.unpark(thread);
    try {
      thread.join(TimeUnit.SECONDS.toMillis(1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
