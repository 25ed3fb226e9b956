package dev.codebook.loadtest.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * How {@code bench} times a mode (batched, or one query per call), and how {@code
 * tools/faiss_bench/faiss_spec_bench.cpp} times FAISS's, so that a ratio of the two compares
 * like with like: after the caller's first pass (whose answers give the recall), untimed passes
 * for {@code warmupSeconds}, then timed passes until there were at least {@code minPasses} of
 * them and at least {@code minSeconds} went by. Each pass's throughput is queries / seconds;
 * the result is their median (the mean of the middle two for an even count), lowest and highest.
 *
 * <p>Beside the wall clock, the process's CPU time over all the timed passes gives {@code
 * cpuQps}: queries per CPU second of the whole process (searching threads, and the JIT and GC
 * too). It is what the work cost, which other programs on a shared machine change much less than
 * the wall clock (they take the cores away, not add instructions). The process CPU time the JDK
 * reports moves in clock ticks (10 ms), so it is taken over all the passes, not per pass.
 */
final class PassTimer {

  /**
   * Median, lowest and highest QPS of the timed passes, how many there were, and the queries
   * per second of process CPU time over all of them (NaN when no CPU time was counted).
   */
  record Stats(double median, double min, double max, int passes, double cpuQps) {}

  /** The process's CPU time in nanoseconds, or -1 where the JVM cannot tell. */
  static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  private final double warmupSeconds;
  private final double minSeconds;
  private final int minPasses;
  private final LongSupplier nanoClock;
  private final LongSupplier cpuClock;

  PassTimer(double warmupSeconds, double minSeconds, int minPasses) {
    this(warmupSeconds, minSeconds, minPasses, System::nanoTime, PassTimer::processCpuNanos);
  }

  PassTimer(double warmupSeconds, double minSeconds, int minPasses, LongSupplier nanoClock,
      LongSupplier cpuClock) {
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
    this.cpuClock = cpuClock;
  }

  /** Warms up with {@code pass}, then times it; {@code pass} searches {@code queries} queries. */
  Stats time(Runnable pass, int queries) {
    long warm = nanoClock.getAsLong();
    while (seconds(warm) < warmupSeconds) {
      pass.run();
    }
    double[] qps = new double[Math.max(16, minPasses)];
    int passes = 0;
    long cpu0 = cpuClock.getAsLong();
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
    long cpu1 = cpuClock.getAsLong();
    double cpuQps = cpu0 >= 0 && cpu1 > cpu0 ? (double) passes * queries / ((cpu1 - cpu0) / 1e9)
        : Double.NaN;
    return stats(Arrays.copyOf(qps, passes), cpuQps);
  }

  /** The median, lowest and highest of per-pass throughputs, with {@code cpuQps} as given. */
  static Stats stats(double[] qps, double cpuQps) {
    if (qps.length == 0) {
      throw new IllegalArgumentException("no passes");
    }
    double[] s = qps.clone();
    Arrays.sort(s);
    int m = s.length;
    double median = m % 2 == 1 ? s[m / 2] : (s[m / 2 - 1] + s[m / 2]) / 2;
    return new Stats(median, s[0], s[m - 1], m, cpuQps);
  }

  private double seconds(long t0) {
    return (nanoClock.getAsLong() - t0) / 1e9;
  }
}
