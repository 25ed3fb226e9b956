package dev.codebook.index.train;

import dev.codebook.index.util.ParallelFor;
import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.VectorUtil;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lloyd's k-means with FAISS's semantics ({@code faiss::Clustering}): a seeded subsample of at
 * most {@code k * maxPointsPerCentroid} points, a fixed number of iterations, empty clusters
 * repaired by splitting a large one, and an optional spherical variant for inner-product coarse
 * quantizers.
 *
 * <p>The assignment step is the cost: {@code n * k * d} multiply-adds per iteration. Centroids
 * are ranked by {@code ||c||^2 - 2 x.c} with precomputed norms, as FAISS does, four points per pass
 * over the centroids with {@link KernelSupport#dotProductsTransposed4}: the centroids are kept
 * transposed and scaled by -2, in blocks of {@value #CENTROID_BLOCK} that stay in L2, and the
 * lanes run across centroids, so PQ sub-spaces of 12 dimensions fill the registers as well as
 * 384-dimensional vectors do.
 *
 * <p>Deterministic given the seed, and independent of the thread count: points are cut into
 * fixed chunks of {@value #CHUNK}, each chunk's partial sums are combined in chunk order, each
 * centroid is the mean of its points summed in point order, and the kernels used have no
 * horizontal sums, whose order (unspecified for the Vector API) could change with the JIT tier.
 */
public final class KMeans {

  /**
   * Lloyd iterations. FAISS's {@code ClusteringParameters.niter} is 25 and its PQ uses that (see
   * {@link PqTrainer#DEFAULT_ITERATIONS}); 20 is the project's default for a standalone k-means.
   */
  public static final int DEFAULT_ITERATIONS = 20;

  /**
   * Iterations for an IVF coarse quantizer, as FAISS's {@code IndexIVF} sets them ({@code
   * cp.niter = 10}): coarse quantizers are large clusterings, and list balance barely moves after
   * 10. Use it to compare training times with FAISS like for like.
   */
  public static final int COARSE_ITERATIONS = 10;

  /** Sample cap per centroid, FAISS's {@code max_points_per_centroid}. */
  public static final int DEFAULT_MAX_POINTS_PER_CENTROID = 256;

  /** Below this many points per centroid FAISS warns that the centroids will be poor. */
  public static final int MIN_POINTS_PER_CENTROID = 39;

  /** FAISS's default {@code seed}. */
  public static final long DEFAULT_SEED = 1234;

  /**
   * k-means++ rather than FAISS's random pick: a random pick often puts two centroids in one
   * well-separated cluster and none in another, which Lloyd's iterations never undo (7 of the 8
   * blob cases in {@code KMeansTest}); on real embeddings both reach the same objective (0.1%).
   */
  public static final Init DEFAULT_INIT = Init.KMEANS_PLUS_PLUS;

  /**
   * k-means++ runs on at most this many points per centroid. Its {@code k} steps each stream the
   * whole subsample from cache or memory, so beyond a few per centroid it costs more than it
   * brings: at 16 it reads {@code 16 k^2 d} floats, on 384-d MiniLM vectors with k=256 about as
   * long as one Lloyd iteration, and the final objective is within 0.1% of that with 64.
   */
  static final int PLUS_PLUS_POINTS_PER_CENTROID = 16;

  /** Relative perturbation of a split centroid's two halves, FAISS's {@code EPS}. */
  static final float SPLIT_EPS = 1f / 1024;

  /** Points per task: the unit of parallel work and of the fixed-order objective sum. */
  static final int CHUNK = 256;

  /**
   * Centroids scored per kernel call: 256 x 384 floats (384 KB) stay in L2 while a chunk of points
   * streams past them, and 256 is the common {@code ksub} and small {@code nlist}.
   */
  static final int CENTROID_BLOCK = 256;

  private static final Logger LOG = LoggerFactory.getLogger(KMeans.class);

  private KMeans() {}

  /** How the first centroids are chosen. */
  public enum Init {
    /** {@code k} distinct sample points drawn uniformly, as FAISS does. */
    RANDOM,
    /**
     * k-means++ (Arthur and Vassilvitskii): each next centroid is a point drawn with probability
     * proportional to its squared distance to the nearest centroid so far, on a subsample of at
     * most {@value KMeans#PLUS_PLUS_POINTS_PER_CENTROID} points per centroid.
     */
    KMEANS_PLUS_PLUS
  }

  /**
   * Training parameters; {@link #defaults()} are FAISS's, with k-means++ initialization.
   *
   * @param iterations Lloyd iterations after the initialization (0 keeps the initial centroids)
   * @param seed seeds the subsample, the initialization and the choice of clusters to split
   * @param maxPointsPerCentroid larger inputs are subsampled to {@code k * maxPointsPerCentroid}
   * @param init how the first centroids are chosen
   * @param spherical scale centroids to unit length after each update, for inner-product search
   * @param threads worker threads for this call
   * @param progress told after every iteration; {@linkplain TrainingProgress#poll polled} for
   *     every chunk of points assigned and every k-means++ centroid picked
   */
  public record Params(
      int iterations,
      long seed,
      int maxPointsPerCentroid,
      Init init,
      boolean spherical,
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
          DEFAULT_ITERATIONS, DEFAULT_SEED, DEFAULT_MAX_POINTS_PER_CENTROID, DEFAULT_INIT, false,
          Runtime.getRuntime().availableProcessors(), TrainingProgress.NONE);
    }

    public Params withIterations(int iterations) {
      return new Params(iterations, seed, maxPointsPerCentroid, init, spherical, threads, progress);
    }

    public Params withSeed(long seed) {
      return new Params(iterations, seed, maxPointsPerCentroid, init, spherical, threads, progress);
    }

    public Params withMaxPointsPerCentroid(int maxPointsPerCentroid) {
      return new Params(iterations, seed, maxPointsPerCentroid, init, spherical, threads, progress);
    }

    public Params withInit(Init init) {
      return new Params(iterations, seed, maxPointsPerCentroid, init, spherical, threads, progress);
    }

    public Params withSpherical(boolean spherical) {
      return new Params(iterations, seed, maxPointsPerCentroid, init, spherical, threads, progress);
    }

    public Params withThreads(int threads) {
      return new Params(iterations, seed, maxPointsPerCentroid, init, spherical, threads, progress);
    }

    public Params withProgress(TrainingProgress progress) {
      return new Params(iterations, seed, maxPointsPerCentroid, init, spherical, threads, progress);
    }
  }

  /**
   * What training produced. The arrays are owned by the caller.
   *
   * @param centroids {@code k x d}
   * @param sample the rows of the input trained on, ascending ({@code 0..n-1} without subsampling)
   * @param assignments the nearest final centroid of each sample point ({@code sample[i]})
   * @param objective after each iteration, the sum over the sample of the squared distance to the
   *     assigned centroid (FAISS's {@code obj}); non-increasing up to rounding and cluster splits
   * @param splits empty clusters repaired over all iterations
   */
  public record Result(
      FloatMatrix centroids, int[] sample, int[] assignments, double[] objective, int splits) {

    public int k() {
      return centroids.rows();
    }

    /** Objective after the last iteration, or of the initial centroids with no iterations. */
    public double finalObjective() {
      return objective.length == 0 ? Double.NaN : objective[objective.length - 1];
    }
  }

  /**
   * Clusters the rows of {@code data} into {@code k} centroids.
   *
   * @throws IllegalArgumentException if {@code k} is not in {@code [1, rows]} or a value is NaN or
   *     infinite
   */
  public static Result train(FloatMatrix data, int k, Params params) {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(params, "params");
    String task = "k-means k=" + k + " d=" + data.dim();
    checkK(data.rows(), k, "k-means");
    if ((long) data.rows() < (long) k * MIN_POINTS_PER_CENTROID) {
      LOG.warn(
          "{}: {} training points, at least {} ({} per centroid) give better centroids",
          task, data.rows(), (long) k * MIN_POINTS_PER_CENTROID, MIN_POINTS_PER_CENTROID);
    }
    SplittableRandom rng = new SplittableRandom(params.seed());
    int[] rows = sampleRows(data.rows(), k, params.maxPointsPerCentroid(), rng);
    FloatMatrix x = rows.length == data.rows() ? data : gatherRows(data, rows);
    for (int i = 0; i < x.rows(); i++) {
      VectorUtil.checkFinite(x.data(), x.offset(i), x.dim(), "training vector " + rows[i]);
    }
    try (ParallelFor workers = ParallelFor.owned(params.threads(), "codebook-kmeans")) {
      return cluster(x, rows, k, params, rng, workers, task);
    }
  }

  /** Throws unless {@code 1 <= k <= n}. */
  static void checkK(int n, int k, String what) {
    if (k <= 0) {
      throw new IllegalArgumentException(what + ": k must be positive, got " + k);
    }
    if (k > n) {
      throw new IllegalArgumentException(
          what + ": k=" + k + " centroids need at least " + k + " training points, got " + n);
    }
  }

  /**
   * Rows to train on: all of them, or {@code k * maxPointsPerCentroid} drawn uniformly without
   * replacement, ascending so the copy reads the input in order.
   */
  static int[] sampleRows(int n, int k, int maxPointsPerCentroid, SplittableRandom rng) {
    long cap = (long) k * maxPointsPerCentroid;
    if (n <= cap) {
      int[] all = new int[n];
      Arrays.setAll(all, i -> i);
      return all;
    }
    int[] sample = partialShuffle(n, (int) cap, rng);
    Arrays.sort(sample);
    return sample;
  }

  /** The first {@code s} entries of a seeded Fisher-Yates shuffle of {@code 0..n-1}. */
  static int[] partialShuffle(int n, int s, SplittableRandom rng) {
    int[] perm = new int[n];
    Arrays.setAll(perm, i -> i);
    for (int i = 0; i < s; i++) {
      int j = i + rng.nextInt(n - i);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    return Arrays.copyOf(perm, s);
  }

  /** A copy of the given rows, in that order. */
  static FloatMatrix gatherRows(FloatMatrix data, int[] rows) {
    int d = data.dim();
    float[] out = new float[Math.multiplyExact(rows.length, d)];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(data.data(), data.offset(rows[i]), out, i * d, d);
    }
    return new FloatMatrix(rows.length, d, out);
  }

  /** Lloyd's iterations on an already sampled and checked {@code x}; the caller owns workers. */
  static Result cluster(
      FloatMatrix x, int[] rows, int k, Params params, SplittableRandom rng, ParallelFor workers,
      String task) {
    Lloyd run = new Lloyd(x, k, params.spherical(), workers, params.progress());
    if (params.init() == Init.RANDOM) {
      run.initRandom(rng);
    } else {
      run.initPlusPlus(rng);
    }
    run.centroidsChanged();
    run.assign();
    double[] objective = new double[params.iterations()];
    int splits = 0;
    for (int it = 0; it < params.iterations(); it++) {
      run.update();
      splits += run.splitEmptyClusters(rng);
      run.centroidsChanged();
      objective[it] = run.assign();
      params.progress().onStep(task, it + 1, params.iterations(), objective[it]);
    }
    return new Result(
        new FloatMatrix(k, x.dim(), run.centroids), rows, run.assign, objective, splits);
  }
}
