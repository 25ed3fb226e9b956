package dev.codebook.index.train;

import dev.codebook.index.util.ParallelFor;
import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.VectorUtil;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a {@link ProductQuantizer} as FAISS does ({@code ProductQuantizer::train}): one k-means of
 * {@code ksub} centroids per sub-space, {@value #DEFAULT_ITERATIONS} iterations each, on one
 * sample of at most {@code 256 * ksub} rows shared by all sub-spaces.
 *
 * <p>Sub-spaces are independent, so with at least as many sub-spaces as threads each thread runs
 * whole single-threaded k-means (no synchronization inside an iteration); otherwise the sub-spaces
 * run one after another, each on all threads. Either way the result does not depend on the
 * thread count, since {@link KMeans} does not.
 */
public final class PqTrainer {

  /** k-means iterations per sub-space, FAISS's PQ default ({@code cp.niter = 25}). */
  public static final int DEFAULT_ITERATIONS = 25;

  private static final Logger LOG = LoggerFactory.getLogger(PqTrainer.class);

  private PqTrainer() {}

  /**
   * Training parameters.
   *
   * @param iterations k-means iterations per sub-space
   * @param seed seeds the sample and each sub-space's k-means
   * @param maxPointsPerCentroid the sample holds at most {@code ksub * maxPointsPerCentroid} rows
   * @param init k-means initialization
   * @param threads worker threads for this call
   * @param progress told once per trained sub-space, in completion order and one call at a time,
   *     with that sub-space's final k-means objective; {@linkplain TrainingProgress#poll polled}
   *     inside each sub-space's k-means as {@link KMeans} polls its own
   */
  public record Params(
      int iterations,
      long seed,
      int maxPointsPerCentroid,
      KMeans.Init init,
      int threads,
      TrainingProgress progress) {

    public Params {
      if (iterations < 0) {
        throw new IllegalArgumentException("iterations must be >= 0, got " + iterations);
      }
      if (maxPointsPerCentroid <= 0) {
        throw new IllegalArgumentException(
            "maxPointsPerCentroid must be positive, got " + maxPointsPerCentroid);
      }
      if (threads <= 0) {
        throw new IllegalArgumentException("threads must be positive, got " + threads);
      }
      Objects.requireNonNull(init, "init");
      Objects.requireNonNull(progress, "progress");
    }

    /** FAISS's defaults, k-means++ initialization, one thread per available processor. */
    public static Params defaults() {
      return new Params(
          DEFAULT_ITERATIONS, KMeans.DEFAULT_SEED, KMeans.DEFAULT_MAX_POINTS_PER_CENTROID,
          KMeans.DEFAULT_INIT, Runtime.getRuntime().availableProcessors(), TrainingProgress.NONE);
    }

    public Params withIterations(int iterations) {
      return new Params(iterations, seed, maxPointsPerCentroid, init, threads, progress);
    }

    public Params withSeed(long seed) {
      return new Params(iterations, seed, maxPointsPerCentroid, init, threads, progress);
    }

    public Params withMaxPointsPerCentroid(int maxPointsPerCentroid) {
      return new Params(iterations, seed, maxPointsPerCentroid, init, threads, progress);
    }

    public Params withInit(KMeans.Init init) {
      return new Params(iterations, seed, maxPointsPerCentroid, init, threads, progress);
    }

    public Params withThreads(int threads) {
      return new Params(iterations, seed, maxPointsPerCentroid, init, threads, progress);
    }

    public Params withProgress(TrainingProgress progress) {
      return new Params(iterations, seed, maxPointsPerCentroid, init, threads, progress);
    }
  }

  /**
   * Trains {@code m} sub-quantizers of {@code 2^nbits} centroids on the rows of {@code data}.
   *
   * @throws IllegalArgumentException for a shape {@link ProductQuantizer#checkShape} rejects,
   *     fewer rows than {@code 2^nbits}, or a value that is NaN or infinite
   */
  public static ProductQuantizer train(FloatMatrix data, int m, int nbits, Params params) {
    Objects.requireNonNull(params, "params");
    return train(data, m, nbits, params, TrainingProgress.pollsOnly(params.progress()));
  }

  /**
   * {@link #train(FloatMatrix, int, int, Params)}, with every sub-space's k-means reporting its
   * iterations to {@code iterations} (task {@code "PQ<m> sub-space <s>"}, from the thread that
   * trains it), which is also what it polls. {@link OpqTrainer} counts the iterations of its
   * first PQ as steps of its own.
   */
  static ProductQuantizer train(
      FloatMatrix data, int m, int nbits, Params params, TrainingProgress iterations) {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(params, "params");
    Objects.requireNonNull(iterations, "iterations");
    int dim = data.dim();
    ProductQuantizer.checkShape(dim, m, nbits);
    String task = nbits == 8 ? "PQ" + m : "PQ" + m + "x" + nbits;
    int ksub = 1 << nbits;
    int n = data.rows();
    if (n < ksub) {
      throw new IllegalArgumentException(
          task + ": training needs at least ksub=" + ksub + " vectors, got " + n);
    }
    if ((long) n < (long) ksub * KMeans.MIN_POINTS_PER_CENTROID) {
      LOG.warn(
          "{}: {} training vectors, at least {} ({} per centroid) give better sub-quantizers",
          task, n, (long) ksub * KMeans.MIN_POINTS_PER_CENTROID, KMeans.MIN_POINTS_PER_CENTROID);
    }
    SplittableRandom rng = new SplittableRandom(params.seed());
    int[] rows = KMeans.sampleRows(n, ksub, params.maxPointsPerCentroid(), rng);
    for (int row : rows) {
      VectorUtil.checkFinite(data.data(), data.offset(row), dim, "training vector " + row);
    }
    long[] seeds = new long[m];
    for (int s = 0; s < m; s++) {
      seeds[s] = rng.nextLong();
    }
    int dsub = dim / m;
    float[] centroids = new float[m * ksub * dsub];
    AtomicInteger done = new AtomicInteger();
    KMeans.Params kmeans =
        new KMeans.Params(
            params.iterations(), params.seed(), Integer.MAX_VALUE, params.init(), false,
            params.threads(), iterations);
    try (ParallelFor workers = ParallelFor.owned(params.threads(), "codebook-pq-train")) {
      boolean acrossSubspaces = m >= workers.threads();
      ParallelFor inner = acrossSubspaces ? ParallelFor.SERIAL : workers;
      ParallelFor outer = acrossSubspaces ? workers : ParallelFor.SERIAL;
      outer.run(m, s -> {
        FloatMatrix sub = subspace(data, rows, s * dsub, dsub);
        KMeans.Result r =
            KMeans.cluster(
                sub, rows, ksub, kmeans, new SplittableRandom(seeds[s]), inner,
                task + " sub-space " + s);
        System.arraycopy(r.centroids().data(), 0, centroids, s * ksub * dsub, ksub * dsub);
        synchronized (done) {
          // Serialized so that steps arrive numbered in order, whichever sub-space finished.
          params.progress().onStep(task, done.incrementAndGet(), m, r.finalObjective());
        }
      });
    }
    return new ProductQuantizer(dim, m, nbits, centroids);
  }

  /** Columns {@code [from, from+width)} of the sampled rows, as a dense matrix. */
  private static FloatMatrix subspace(FloatMatrix data, int[] rows, int from, int width) {
    float[] out = new float[rows.length * width];
    float[] src = data.data();
    int d = data.dim();
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(src, rows[i] * d + from, out, i * width, width);
    }
    return new FloatMatrix(rows.length, width, out);
  }
}
