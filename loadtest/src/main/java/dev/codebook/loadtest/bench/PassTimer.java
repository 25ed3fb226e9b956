package dev.codebook.loadtest.bench;

import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * How {@code bench} times a mode (batched, or one query per call), and how {@code
 * tools/faiss_bench/faiss_spec_bench.cpp} times FAISS's, so that a ratio of the two compares
 * like with like: after the caller's first pass (whose answers give the recall), untimed passes
 * for {@code warmupSeconds}, then timed passes until there were at least {@code minPasses} of
 * them and at least {@code minSeconds} went by. Each pass's throughput is queries / seconds;
 * the result is their median (the mean of the middle two for an even count), lowest and highest.
 */
final class PassTimer {

  /** Median, lowest and highest QPS of the timed passes, and how many there were. */
  record Stats(double median, double min, double max, int passes) {}

  private final double warmupSeconds;
  private final double minSeconds;
  private final int minPasses;
  private final LongSupplier nanoClock;

  PassTimer(double warmupSeconds, double minSeconds, int minPasses) {
    this(warmupSeconds, minSeconds, minPasses, System::nanoTime);
  }

  PassTimer(double warmupSeconds, double minSeconds, int minPasses, LongSupplier nanoClock) {
    if (warmupSeconds < 0 || minSeconds < 0) {
      throw new IllegalArgumentException(
          "warm-up and minimum time must not be negative, got " + warmupSeconds + ", " + minSeconds);
    }
    if (minPasses < 1) {
      throw new IllegalArgumentException("at least one timed pass, got " + minPasses);
    }
    this.warmupSeconds = warmupSeconds;
    this.minSeconds = minSeconds;
    this.minPasses = minPasses;
    this.nanoClock = nanoClock;
  }

  /** Warms up with {@code pass}, then times it; {@code pass} searches {@code queries} queries. */
  Stats time(Runnable pass, int queries) {
    long warm = nanoClock.getAsLong();
    while (seconds(warm) < warmupSeconds) {
      pass.run();
    }
    double[] qps = new double[Math.max(16, minPasses)];
    int passes = 0;
    long start = nanoClock.getAsLong();
    while (passes < minPasses || seconds(start) < minSeconds) {
      long p0 = nanoClock.getAsLong();
      pass.run();
      double s = seconds(p0);
      if (passes == qps.length) {
        qps = Arrays.copyOf(qps, passes * 2);
      }
      qps[passes++] = queries / Math.max(s, 1e-9);
    }
    return stats(Arrays.copyOf(qps, passes));
  }

  /** The median, lowest and highest of per-pass throughputs. */
  static Stats stats(double[] qps) {
    if (qps.length == 0) {
      throw new IllegalArgumentException("no passes");
    }
    double[] s = qps.clone();
    Arrays.sort(s);
    int m = s.length;
    double median = m % 2 == 1 ? s[m / 2] : (s[m / 2 - 1] + s[m / 2]) / 2;
    return new Stats(median, s[0], s[m - 1], m);
  }

  private double seconds(long t0) {
    return (nanoClock.getAsLong() - t0) / 1e9;
  }
}
