package dev.codebook.loadtest.load;

/**
 * The timetable of an open-loop test: call {@code i} is due at {@code start + i / rate}, whatever
 * happened to the calls before it. Computed from {@code i} rather than by adding a period, so it
 * does not drift by rounding over millions of calls.
 *
 * @param startNanos when call 0 is due ({@link System#nanoTime()} clock)
 * @param rate calls per second
 */
public record OpenLoopSchedule(long startNanos, double rate) {

  public OpenLoopSchedule {
    if (!(rate > 0) || Double.isInfinite(rate)) {
      throw new IllegalArgumentException("--rate must be positive, got " + rate);
    }
  }

  /** When call {@code i} (from 0) is due. */
  public long due(long i) {
    return startNanos + (long) (i * (1e9 / rate));
  }

  /** How many calls are due in {@code [startNanos, startNanos + nanos)}. */
  public long callsWithin(long nanos) {
    if (nanos <= 0) {
      return 0;
    }
    long n = (long) Math.ceil(nanos * rate / 1e9);
    // correct the floating-point edge either way
    while (n > 0 && due(n - 1) - startNanos >= nanos) {
      n--;
    }
    while (due(n) - startNanos < nanos) {
      n++;
    }
    return n;
  }
}
