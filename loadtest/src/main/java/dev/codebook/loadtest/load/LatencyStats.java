package dev.codebook.loadtest.load;

import io.grpc.Status;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What one phase of a load test saw: call latencies in HdrHistograms (microseconds, three
 * significant digits, up to an hour), calls and queries answered, and failures by gRPC status
 * code. Recording is wait-free from any thread (HdrHistogram {@link Recorder}s); {@link
 * #drain()} moves what was recorded since the last drain into the cumulative histograms, for the
 * progress line every second and once at the end.
 *
 * <p>Two latencies per call: {@code latency} is what the caller of a load test reports, measured
 * from the call's <em>intended</em> start (in an open loop, its slot on the timetable, so a
 * stalled server is charged for every request it delayed: no coordinated omission), and {@code
 * service} is measured from when the call was actually sent. In a closed loop the two are the
 * same.
 */
public final class LatencyStats {

  /** Largest latency recorded exactly; longer ones are clamped (an hour, in microseconds). */
  static final long HIGHEST_MICROS = TimeUnit.HOURS.toMicros(1);
  static final int DIGITS = 3;

  private final Recorder latency = new Recorder(HIGHEST_MICROS, DIGITS);
  private final Recorder service = new Recorder(HIGHEST_MICROS, DIGITS);
  private final Histogram latencyTotal = new Histogram(HIGHEST_MICROS, DIGITS);
  private final Histogram serviceTotal = new Histogram(HIGHEST_MICROS, DIGITS);
  private Histogram latencyInterval;
  private Histogram serviceInterval;
  private final LongAdder queries = new LongAdder();
  private final LongAdder sendLagOver1ms = new LongAdder();
  private final LongAccumulator maxSendLag = new LongAccumulator(Math::max, 0);
  private final LongAccumulator lastCompletion = new LongAccumulator(Math::max, Long.MIN_VALUE);
  private final Map<Status.Code, LongAdder> errors = new EnumMap<>(Status.Code.class);

  public LatencyStats() {
    for (Status.Code c : Status.Code.values()) {
      errors.put(c, new LongAdder());
    }
  }

  /**
   * A call answered.
   *
   * @param intendedNanos when it should have started ({@link System#nanoTime()} clock)
   * @param sentNanos when it was sent
   * @param doneNanos when its answer arrived
   * @param queryCount queries in the call
   */
  public void success(long intendedNanos, long sentNanos, long doneNanos, int queryCount) {
    latency.recordValue(micros(correctedLatency(intendedNanos, doneNanos)));
    service.recordValue(micros(Math.max(0, doneNanos - sentNanos)));
    queries.add(queryCount);
    lag(intendedNanos, sentNanos);
    lastCompletion.accumulate(doneNanos);
  }

  /** A call that failed with {@code code}; its latency is not recorded. */
  public void failure(long intendedNanos, long sentNanos, long doneNanos, Status.Code code) {
    errors.get(code).increment();
    lag(intendedNanos, sentNanos);
    lastCompletion.accumulate(doneNanos);
  }

  private void lag(long intendedNanos, long sentNanos) {
    long lag = sentNanos - intendedNanos;
    if (lag > 1_000_000) {
      sendLagOver1ms.increment();
    }
    maxSendLag.accumulate(lag);
  }

  /**
   * The latency charged to a call: from its intended start to its answer. A call sent late
   * because the server (or this client) was slow is charged the wait too; this is the
   * coordinated-omission correction, done at the source rather than by back-filling.
   */
  public static long correctedLatency(long intendedNanos, long doneNanos) {
    return Math.max(0, doneNanos - intendedNanos);
  }

  /** Nanoseconds as the microseconds the histograms hold, clamped to {@link #HIGHEST_MICROS}. */
  static long micros(long nanos) {
    return Math.min(HIGHEST_MICROS, (nanos + 500) / 1000);
  }

  /**
   * Adds what was recorded since the last drain to the totals; returns the calls answered in
   * that interval.
   */
  public synchronized long drain() {
    latencyInterval = latency.getIntervalHistogram(latencyInterval);
    serviceInterval = service.getIntervalHistogram(serviceInterval);
    latencyTotal.add(latencyInterval);
    serviceTotal.add(serviceInterval);
    return latencyInterval.getTotalCount();
  }

  /** Calls answered, as of the last {@link #drain()}. */
  public synchronized long calls() {
    return latencyTotal.getTotalCount();
  }

  /** Latency at {@code percentile} (0 to 100) in milliseconds, as of the last drain. */
  public synchronized double latencyMs(double percentile) {
    return latencyTotal.getTotalCount() == 0 ? Double.NaN
        : latencyTotal.getValueAtPercentile(percentile) / 1000.0;
  }

  /** Service time (from the actual send) at {@code percentile} in milliseconds. */
  public synchronized double serviceMs(double percentile) {
    return serviceTotal.getTotalCount() == 0 ? Double.NaN
        : serviceTotal.getValueAtPercentile(percentile) / 1000.0;
  }

  public synchronized double maxMs() {
    return latencyTotal.getTotalCount() == 0 ? Double.NaN : latencyTotal.getMaxValue() / 1000.0;
  }

  public synchronized double meanMs() {
    return latencyTotal.getTotalCount() == 0 ? Double.NaN : latencyTotal.getMean() / 1000.0;
  }

  /** A copy of the cumulative latency histogram (microseconds). */
  public synchronized Histogram latencyHistogram() {
    return latencyTotal.copy();
  }

  public long queries() {
    return queries.sum();
  }

  /** Failed calls by status code (codes seen only), in code order. */
  public Map<String, Long> errors() {
    Map<String, Long> out = new java.util.LinkedHashMap<>();
    for (Map.Entry<Status.Code, LongAdder> e : errors.entrySet()) {
      long n = e.getValue().sum();
      if (n > 0) {
        out.put(e.getKey().name(), n);
      }
    }
    return out;
  }

  public long errorCount() {
    long n = 0;
    for (LongAdder a : errors.values()) {
      n += a.sum();
    }
    return n;
  }

  /** Calls sent more than a millisecond after their slot (the generator fell behind). */
  public long lateSends() {
    return sendLagOver1ms.sum();
  }

  /** The longest delay between a call's slot and its send, in milliseconds. */
  public double maxSendLagMs() {
    return maxSendLag.get() / 1e6;
  }

  /** {@link System#nanoTime()} of the last answer or failure, or {@link Long#MIN_VALUE}. */
  public long lastCompletionNanos() {
    return lastCompletion.get();
  }
}
