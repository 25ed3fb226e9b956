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

  /**
   * The state of one clustering: sample, centroids and assignments. It polls its progress for
   * every chunk of points it assigns and every k-means++ centroid it picks, so that a large
   * clustering, or a PQ sub-space trained on one thread, stops soon after a cancel.
   */
  private static final class Lloyd {
    private final KernelSupport kernels = VectorKernels.support();
    private final ParallelFor workers;
    private final TrainingProgress progress;
    private final float[] x;
    private final int n;
    private final int d;
    private final int k;
    private final boolean spherical;
    private final int chunks;

    private final float[] centroids;
    private final float[] centroidNorms;
    /**
     * {@code -2 * centroids}, transposed per block: centroid {@code c} of the block starting at
     * {@code c0} (length {@code len}) has component {@code j} at {@code c0 * d + j * len + c - c0}.
     */
    private final float[] blocksT;
    /** Squared norms of the points, for the objective of the {@code ||c||^2 - 2x.c} ranking. */
    private final double[] pointNorms;
    private final int[] assign;
    private final double[] chunkObjective;
    private final int[] counts;

    Lloyd(FloatMatrix sample, int k, boolean spherical, ParallelFor workers,
        TrainingProgress progress) {
      this.workers = workers;
      this.progress = progress;
      this.x = sample.data();
      this.n = sample.rows();
      this.d = sample.dim();
      this.k = k;
      this.spherical = spherical;
      this.chunks = (n + CHUNK - 1) / CHUNK;
      this.centroids = new float[Math.multiplyExact(k, d)];
      this.centroidNorms = new float[k];
      this.blocksT = new float[k * d];
      this.pointNorms = new double[n];
      this.assign = new int[n];
      this.chunkObjective = new double[chunks];
      this.counts = new int[k];
      // Only the reported objective needs them: plain float64 loops.
      workers.run(chunks, chunk -> {
        for (int i = chunk * CHUNK, end = Math.min(n, i + CHUNK); i < end; i++) {
          double sum = 0;
          for (int j = i * d, e = j + d; j < e; j++) {
            sum += (double) x[j] * x[j];
          }
          pointNorms[i] = sum;
        }
      });
    }

    void initRandom(SplittableRandom rng) {
      int[] picks = partialShuffle(n, k, rng);
      for (int c = 0; c < k; c++) {
        System.arraycopy(x, picks[c] * d, centroids, c * d, d);
      }
    }

    /**
     * k-means++ on a subsample. The subsample is stored transposed per chunk, so that the distances
     * from each new centroid to all points are one {@link KernelSupport#squareDistancesTransposed}
     * per chunk with the lanes across points, whatever the dimension.
     */
    void initPlusPlus(SplittableRandom rng) {
      long cap = (long) k * PLUS_PLUS_POINTS_PER_CENTROID;
      int m = (int) Math.min(n, cap);
      int[] rows;
      if (m == n) {
        rows = new int[n];
        Arrays.setAll(rows, i -> i);
      } else {
        rows = partialShuffle(n, m, rng);
        Arrays.sort(rows);
      }
      int ppChunks = (m + CHUNK - 1) / CHUNK;
      float[] pointsT = new float[Math.multiplyExact(m, d)];
      workers.run(ppChunks, chunk -> {
        int p0 = chunk * CHUNK;
        int len = Math.min(m, p0 + CHUNK) - p0;
        int base = p0 * d;
        for (int i = 0; i < len; i++) {
          int src = rows[p0 + i] * d;
          for (int j = 0; j < d; j++) {
            pointsT[base + j * len + i] = x[src + j];
          }
        }
      });
      float[] minDist = new float[m];
      Arrays.fill(minDist, Float.POSITIVE_INFINITY);
      double[] chunkSum = new double[ppChunks];
      float[] center = new float[d];
      int pick = rng.nextInt(m);
      for (int c = 0; ; c++) {
        System.arraycopy(x, rows[pick] * d, centroids, c * d, d);
        if (c == k - 1) {
          return;
        }
        progress.poll();
        System.arraycopy(x, rows[pick] * d, center, 0, d);
        workers.run(ppChunks, chunk -> {
          int p0 = chunk * CHUNK;
          int len = Math.min(m, p0 + CHUNK) - p0;
          float[] dist = new float[len];
          kernels.squareDistancesTransposed(center, 0, pointsT, p0 * d, d, len, dist, 0);
          double sum = 0;
          for (int i = 0; i < len; i++) {
            float v = Math.min(minDist[p0 + i], dist[i]);
            minDist[p0 + i] = v;
            sum += v;
          }
          chunkSum[chunk] = sum;
        });
        double total = 0;
        for (double s : chunkSum) {
          total += s;
        }
        if (!(total > 0)) {
          // Fewer distinct points than centroids: duplicates now, split apart by the repair.
          pick = rng.nextInt(m);
          continue;
        }
        pick = drawProportional(minDist, chunkSum, rng.nextDouble() * total);
      }
    }

    /** The point whose interval of cumulative weight holds {@code r}. */
    private static int drawProportional(float[] weights, double[] chunkSum, double r) {
      int chunk = 0;
      while (chunk < chunkSum.length - 1 && r >= chunkSum[chunk]) {
        r -= chunkSum[chunk++];
      }
      int end = Math.min(weights.length, (chunk + 1) * CHUNK);
      int lastPositive = -1;
      for (int i = chunk * CHUNK; i < end; i++) {
        if (weights[i] > 0) {
          lastPositive = i;
          r -= weights[i];
          if (r < 0) {
            return i;
          }
        }
      }
      // Rounding left r just past the chunk's last weight.
      return lastPositive >= 0 ? lastPositive : chunk * CHUNK;
    }

    /** Refreshes what the assignment step derives from the centroids. */
    void centroidsChanged() {
      if (spherical) {
        for (int c = 0; c < k; c++) {
          normalize(centroids, c * d, d);
        }
      }
      for (int c0 = 0; c0 < k; c0 += CENTROID_BLOCK) {
        int len = Math.min(CENTROID_BLOCK, k - c0);
        for (int c = c0; c < c0 + len; c++) {
          float norm = 0;
          for (int j = 0, src = c * d, dst = c0 * d + c - c0; j < d; j++, dst += len) {
            float v = centroids[src + j];
            norm += v * v;
            blocksT[dst] = -2 * v;
          }
          centroidNorms[c] = norm;
        }
      }
    }

    /** Scales a centroid to unit length; a zero centroid has no direction and stays. */
    private static void normalize(float[] v, int off, int len) {
      double norm2 = 0;
      for (int j = 0; j < len; j++) {
        norm2 += (double) v[off + j] * v[off + j];
      }
      if (norm2 > 0) {
        double inv = 1.0 / Math.sqrt(norm2);
        for (int j = 0; j < len; j++) {
          v[off + j] = (float) (v[off + j] * inv);
        }
      }
    }

    /** Assigns every point to its nearest centroid; returns the objective. */
    double assign() {
      workers.run(chunks, chunk -> {
        progress.poll();
        assignChunk(chunk);
      });
      double total = 0;
      for (double s : chunkObjective) {
        total += s;
      }
      return total;
    }

    private void assignChunk(int chunk) {
      int p0 = chunk * CHUNK;
      int end = Math.min(n, p0 + CHUNK);
      int last = end - 1;
      float[] scores = new float[4 * Math.min(k, CENTROID_BLOCK)];
      float[] best = new float[end - p0];
      Arrays.fill(best, Float.POSITIVE_INFINITY);
      for (int c0 = 0; c0 < k; c0 += CENTROID_BLOCK) {
        int len = Math.min(CENTROID_BLOCK, k - c0);
        for (int p = p0; p < end; p += 4) {
          // A short last group repeats its last point; the extra rows are dropped.
          int lanes = Math.min(4, end - p);
          kernels.dotProductsTransposed4(
              x, p * d, Math.min(p + 1, last) * d, Math.min(p + 2, last) * d,
              Math.min(p + 3, last) * d, blocksT, c0 * d, d, len, centroidNorms, c0, scores, 0);
          for (int r = 0; r < lanes; r++) {
            int c = kernels.argMin(scores, r * len, len);
            float score = scores[r * len + c];
            // Strictly less: on ties the earlier block, so the lowest centroid number, wins.
            if (score < best[p + r - p0]) {
              best[p + r - p0] = score;
              assign[p + r] = c0 + c;
            }
          }
        }
      }
      double objective = 0;
      for (int i = p0; i < end; i++) {
        objective += Math.max(0.0, pointNorms[i] + best[i - p0]);
      }
      chunkObjective[chunk] = objective;
    }

    /**
     * Moves each centroid to the mean of its points, summed in double in point order; empty
     * clusters keep their centroid until {@link #splitEmptyClusters} replaces it.
     */
    void update() {
      Arrays.fill(counts, 0);
      for (int i = 0; i < n; i++) {
        counts[assign[i]]++;
      }
      int[] start = new int[k + 1];
      for (int c = 0; c < k; c++) {
        start[c + 1] = start[c] + counts[c];
      }
      int[] members = new int[n];
      int[] fill = Arrays.copyOf(start, k);
      for (int i = 0; i < n; i++) {
        members[fill[assign[i]]++] = i;
      }
      // Each centroid is summed on one thread, so this split may follow the thread count.
      int perTask = Math.max(1, k / (4 * workers.threads()));
      workers.run((k + perTask - 1) / perTask, task -> {
        double[] sum = new double[d];
        for (int c = task * perTask, end = Math.min(k, c + perTask); c < end; c++) {
          if (counts[c] == 0) {
            continue;
          }
          Arrays.fill(sum, 0);
          for (int e = start[c]; e < start[c + 1]; e++) {
            int off = members[e] * d;
            for (int j = 0; j < d; j++) {
              sum[j] += x[off + j];
            }
          }
          double inv = 1.0 / counts[c];
          for (int j = 0; j < d; j++) {
            centroids[c * d + j] = (float) (sum[j] * inv);
          }
        }
      });
    }

    /**
     * FAISS's repair: each empty cluster takes a copy of a cluster drawn with probability
     * proportional to its size minus one, the two copies are pushed apart by {@link #SPLIT_EPS}
     * in opposite directions, and the next assignment divides the points between them.
     */
    int splitEmptyClusters(SplittableRandom rng) {
      int splits = 0;
      double denominator = Math.max(1, n - k);
      for (int ci = 0; ci < k; ci++) {
        if (counts[ci] != 0) {
          continue;
        }
        int cj = 0;
        while (true) {
          double p = (counts[cj] - 1.0) / denominator;
          if (rng.nextDouble() < p) {
            break;
          }
          cj = (cj + 1) % k;
        }
        int a = ci * d;
        int b = cj * d;
        System.arraycopy(centroids, b, centroids, a, d);
        for (int j = 0; j < d; j++) {
          float up = (j & 1) == 0 ? 1 + SPLIT_EPS : 1 - SPLIT_EPS;
          float down = (j & 1) == 0 ? 1 - SPLIT_EPS : 1 + SPLIT_EPS;
          centroids[a + j] *= up;
          centroids[b + j] *= down;
        }
        counts[ci] = counts[cj] / 2;
        counts[cj] -= counts[ci];
        splits++;
      }
      return splits;
    }
  }
}
