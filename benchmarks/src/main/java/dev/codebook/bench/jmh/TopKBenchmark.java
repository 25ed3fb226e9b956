package dev.codebook.bench.jmh;

import dev.codebook.index.search.TopK;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link TopK} fed {@value #N} scores per invocation, as one query's scan of a 100k-vector
 * segment would; scores are in offers per microsecond.
 *
 * <p>{@code order=random} is the usual case: after the heap fills, a candidate is kept with
 * probability about k/i, so most offers are one comparison against the root. {@code
 * order=ascending} is the worst case, every offer kept and sifted down the whole heap.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TopKBenchmark {

  /** Scores offered per invocation. */
  public static final int N = 100_000;

  @Param({"10", "100"})
  public int k;

  @Param({"random", "ascending"})
  public String order;

  float[] scores;
  TopK top;

  @Setup(Level.Trial)
  public void setup() {
    SplittableRandom random = new SplittableRandom(KernelBenchmark.SEED);
    scores = new float[N];
    for (int i = 0; i < N; i++) {
      scores[i] = (float) random.nextDouble();
    }
    switch (order) {
      case "random" -> {}
      case "ascending" -> Arrays.sort(scores);
      default -> throw new IllegalArgumentException("order must be random or ascending: " + order);
    }
    top = new TopK(k);
  }

  /** Every score through {@link TopK#offer}; returns the final threshold (the k-th best). */
  @Benchmark
  @OperationsPerInvocation(N)
  public float offer() {
    TopK t = top;
    float[] s = scores;
    t.clear();
    for (int i = 0; i < s.length; i++) {
      t.offer(i, s[i]);
    }
    return t.threshold();
  }

  /**
   * As the scanners do it: test against {@link TopK#threshold()} first and call {@code offer}
   * only for candidates that beat it. Exact here because ids ascend, so a tie never wins.
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public float offerAboveThreshold() {
    TopK t = top;
    float[] s = scores;
    t.clear();
    for (int i = 0; i < s.length; i++) {
      float score = s[i];
      if (score > t.threshold()) {
        t.offer(i, score);
      }
    }
    return t.threshold();
  }
}
