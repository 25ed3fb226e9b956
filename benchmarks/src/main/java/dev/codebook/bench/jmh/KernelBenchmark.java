package dev.codebook.bench.jmh;

import dev.codebook.index.simd.KernelProvider;
import dev.codebook.index.simd.KernelSupport;
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
 * The distance kernels of {@link KernelSupport}, scalar and Vector API, through the one SPI so the
 * two are measured the same way in the same run.
 *
 * <p>Each invocation scores the queries against a block of {@value #ROWS} vectors stored
 * row-major in one {@code float[]}, the layout {@code FlatIndex} scans. {@value #ROWS} rows match
 * {@code FlatIndex.BLOCK_ROWS} and stay inside the 1 MB per-core L2 of the Zen 4 machines up to
 * d=768 (768 KB), so this measures the kernels' compute rather than DRAM bandwidth.
 *
 * <p>Scores are in <em>similarity computations per microsecond</em> (one query against one vector):
 * {@link #dotProduct} and {@link #squareDistance} do {@value #ROWS} per invocation, {@link
 * #dotProduct4} and {@link #squareDistance4} do 4 x {@value #ROWS}, so all four are directly
 * comparable. Every method returns the sum of its scores, which JMH consumes (no dead code) and
 * {@code KernelBenchmarkTest} checks against a float64 reference.
 *
 * <p>JMH forks a fresh JVM per parameter combination, so each kernel call site sees only one
 * {@link KernelSupport} class and is inlined as in production. Do not run with {@code -f 0}: the
 * call site would turn bimorphic across {@code impl} values and skew the ratio.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class KernelBenchmark {

  /** Vectors in the block each invocation scans. */
  public static final int ROWS = 256;

  /** Queries scored together by the {@code ...4} kernels. */
  public static final int QUERIES = 4;

  static final long SEED = 0x5EEDC0DEL;

  /** {@code scalar} or {@code panama}, as {@link KernelProvider} names them. */
  @Param({"scalar", "panama"})
  public String impl;

  @Param({"96", "384", "768"})
  public int dim;

  KernelSupport kernels;
  /** {@link #ROWS} x {@link #dim}, row-major, uniform in [-1, 1). */
  float[] data;
  /** {@link #QUERIES} x {@link #dim}, row-major, uniform in [-1, 1). */
  float[] queries;
  private final float[] out = new float[QUERIES];

  @Setup(Level.Trial)
  public void setup() {
    kernels =
        switch (impl) {
          case "scalar" -> KernelProvider.scalar();
          case "panama" -> KernelProvider.panama();
          default -> throw new IllegalArgumentException("impl must be scalar or panama: " + impl);
        };
    if (dim <= 0) {
      throw new IllegalArgumentException("dim must be positive: " + dim);
    }
    SplittableRandom random = new SplittableRandom(SEED);
    data = randomFloats(random, ROWS * dim);
    queries = randomFloats(random, QUERIES * dim);
  }

  private static float[] randomFloats(SplittableRandom random, int n) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return values;
  }

  /** One query (row 0 of {@link #queries}) against every vector of the block. */
  @Benchmark
  @OperationsPerInvocation(ROWS)
  public float dotProduct() {
    KernelSupport k = kernels;
    float[] q = queries;
    float[] v = data;
    int d = dim;
    float sum = 0;
    for (int row = 0, off = 0; row < ROWS; row++, off += d) {
      sum += k.dotProduct(q, 0, v, off, d);
    }
    return sum;
  }

  @Benchmark
  @OperationsPerInvocation(ROWS)
  public float squareDistance() {
    KernelSupport k = kernels;
    float[] q = queries;
    float[] v = data;
    int d = dim;
    float sum = 0;
    for (int row = 0, off = 0; row < ROWS; row++, off += d) {
      sum += k.squareDistance(q, 0, v, off, d);
    }
    return sum;
  }

  /**
   * The cosine re-rank score against stored vectors that were not normalized, as IVF-PQ
   * re-ranking from a segment's original vectors computed it before {@code dotProductOverNorm}:
   * the dot product, then the norm in a second pass.
   */
  @Benchmark
  @OperationsPerInvocation(ROWS)
  public float dotProductThenNorm() {
    KernelSupport k = kernels;
    float[] q = queries;
    float[] v = data;
    int d = dim;
    float sum = 0;
    for (int row = 0, off = 0; row < ROWS; row++, off += d) {
      double norm2 = k.squaredNorm(v, off, d);
      sum += norm2 > 0 ? (float) (k.dotProduct(q, 0, v, off, d) / Math.sqrt(norm2)) : 0f;
    }
    return sum;
  }

  /** The same scores in one pass over each vector. */
  @Benchmark
  @OperationsPerInvocation(ROWS)
  public float dotProductOverNorm() {
    KernelSupport k = kernels;
    float[] q = queries;
    float[] v = data;
    int d = dim;
    float sum = 0;
    for (int row = 0, off = 0; row < ROWS; row++, off += d) {
      sum += k.dotProductOverNorm(q, 0, v, off, d);
    }
    return sum;
  }

  /** All four queries against every vector, one pass over the block: 4 x ROWS scores. */
  @Benchmark
  @OperationsPerInvocation(QUERIES * ROWS)
  public float dotProduct4() {
    KernelSupport k = kernels;
    float[] q = queries;
    float[] v = data;
    float[] o = out;
    int d = dim;
    float sum = 0;
    for (int row = 0, off = 0; row < ROWS; row++, off += d) {
      k.dotProduct4(q, 0, d, 2 * d, 3 * d, v, off, d, o, 0);
      sum += (o[0] + o[1]) + (o[2] + o[3]);
    }
    return sum;
  }

  @Benchmark
  @OperationsPerInvocation(QUERIES * ROWS)
  public float squareDistance4() {
    KernelSupport k = kernels;
    float[] q = queries;
    float[] v = data;
    float[] o = out;
    int d = dim;
    float sum = 0;
    for (int row = 0, off = 0; row < ROWS; row++, off += d) {
      k.squareDistance4(q, 0, d, 2 * d, 3 * d, v, off, d, o, 0);
      sum += (o[0] + o[1]) + (o[2] + o[3]);
    }
    return sum;
  }
}
