package dev.codebook.bench.jmh;

import dev.codebook.index.ivf.CoarseQuantizer;
import dev.codebook.index.search.TopK;
import dev.codebook.index.simd.KernelProvider;
import dev.codebook.index.vector.FloatMatrix;
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
 * The coarse quantizer's probe ({@link CoarseQuantizer#probeBatch}): {@value #QUERIES} queries
 * scored against every centroid and each keeping its {@link #nprobe} best lists, as IVF search
 * runs it per batch, and one query alone, as a server runs it. Scores are in <em>queries per
 * microsecond</em>; multiply by {@code nlist * dim} for multiply-adds per microsecond (a 512-bit
 * FMA per cycle is 16 per cycle).
 *
 * <p>{@code nlist = 4096} does not fit in L2 (6 MB of centroids at d=384): it measures how well
 * the centroid layout streams from memory, which is where the 1M-vector IVF4096 searches spend
 * most of their time. The kernel provider is chosen per fork, before the first kernel call.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class CoarseProbeBenchmark {

  /** Queries per {@code probeBatch} call, as IVF search batches them. */
  public static final int QUERIES = 16;

  /** {@code scalar} or {@code panama}, as {@link KernelProvider} names them. */
  @Param({"scalar", "panama"})
  public String impl;

  @Param({"256", "4096"})
  public int nlist;

  @Param({"384"})
  public int dim;

  @Param({"16"})
  public int nprobe;

  CoarseQuantizer coarse;
  FloatMatrix queries;
  TopK[] heaps;
  CoarseQuantizer.ProbeScratch scratch;

  @Setup(Level.Trial)
  public void setup() {
    System.setProperty(KernelProvider.PROPERTY, impl);
    SplittableRandom r = new SplittableRandom(0x5EEDC0DEL);
    coarse = CoarseQuantizer.build(random(r, nlist, dim), true);
    queries = random(r, QUERIES, dim);
    heaps = new TopK[QUERIES];
    for (int i = 0; i < QUERIES; i++) {
      heaps[i] = new TopK(nprobe);
    }
    scratch = coarse.newProbeScratch();
  }

  static FloatMatrix random(SplittableRandom r, int rows, int dim) {
    FloatMatrix m = FloatMatrix.allocate(rows, dim);
    float[] d = m.data();
    for (int i = 0; i < d.length; i++) {
      d[i] = (float) r.nextDouble(-1, 1);
    }
    return m;
  }

  /** Returns the best score over all queries, so nothing is dead code. */
  @Benchmark
  @OperationsPerInvocation(QUERIES)
  public float probeBatch() {
    coarse.probeBatch(queries, 0, QUERIES, heaps, scratch);
    float best = Float.NEGATIVE_INFINITY;
    for (TopK h : heaps) {
      best = Math.max(best, h.threshold());
    }
    return best;
  }

  /**
   * One query per call, as a server probes: from {@value CoarseQuantizer#FAST_PROBE_MIN_NLIST}
   * lists through the pre-selecting fast-scan of the centroids, below that one query against
   * four registers of centroids per pass.
   */
  @Benchmark
  public float probeOne() {
    coarse.probeBatch(queries, 0, 1, heaps, scratch);
    return heaps[0].threshold();
  }
}
