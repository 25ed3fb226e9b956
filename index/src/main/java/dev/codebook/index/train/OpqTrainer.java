package dev.codebook.index.train;

import dev.codebook.index.util.ParallelFor;
import dev.codebook.index.quant.OpqRotation;
import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.VectorUtil;
import java.util.Objects;
import java.util.SplittableRandom;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * Trains an {@link OpqRotation} and the {@link ProductQuantizer} that follows it: optimized
 * product quantization (Ge, He, Ke and Sun, 2013), the non-parametric version FAISS's {@code
 * OPQMatrix::train} implements. Plain PQ loses accuracy when a few dimensions hold most of the
 * variance or when dimensions of different sub-spaces are correlated; OPQ learns the rotation
 * that spreads the variance and decorrelates the sub-spaces.
 *
 * <p>On a centered sample {@code X} of at most {@code maxTrainingPoints} rows, starting from a
 * {@linkplain OpqRotation#random random rotation} {@code R}, each outer iteration
 *
 * <ol>
 *   <li>rotates the sample, {@code X R^T};
 *   <li>trains the PQ on it: {@link PqTrainer} with {@code firstPqIterations} on the first
 *       iteration, then {@code pqIterations} Lloyd iterations started from the previous centroids
 *       (FAISS's {@code Train_hot_start});
 *   <li>encodes and decodes the sample to {@code Y} and reports the mean squared error;
 *   <li>solves the orthogonal Procrustes problem {@code min ||X R^T - Y||} over rotations: with
 *       {@code X^T Y = U S V^T} (EJML's SVD), {@code R = V U^T}.
 * </ol>
 *
 * The last iteration stops after step 3, so the returned quantizer is the one trained for the
 * returned rotation and the last reported error is theirs. Each step lowers the error for the
 * other's choice (the Procrustes step is optimal for fixed codes, a hot-started Lloyd iteration
 * never raises it), so the reported error does not increase beyond rounding.
 *
 * <p>Like FAISS this trains on the centered sample; the mean is added back to the returned
 * centroids ({@code R mu}, sub-space by sub-space), so the quantizer applies to {@code R x} as it
 * is. {@code X^T Y} is accumulated per code rather than by a {@code d x n x d} product: for each
 * sub-space the rows of {@code X} are summed per code and multiplied by that sub-space's
 * centroids, {@code n m d + m ksub d dsub} operations instead of {@code n d^2}.
 *
 * <p>Progress is one task, {@code "OPQ<m>"}, counted in sub-space passes: a Lloyd iteration or
 * an assignment of the sample in one sub-space. The rotation update of an outer iteration (the
 * Procrustes step and the next rotation of the sample) counts as one pass of every sub-space. The
 * first PQ alone is as long as several outer iterations, so reporting only outer iterations would
 * leave a build at 0% for its first part; counted in passes, the fraction moves at every Lloyd
 * iteration of a sub-space of the first PQ and at every assignment after it. The trainer also
 * {@linkplain TrainingProgress#poll polls} for every chunk of rows it assigns or sums and between
 * phases, so a receiver that throws stops it soon: the longest stretches without a poll are the
 * random start rotation and the SVD of the {@code d x d} matrix.
 *
 * <p>Deterministic given the seed and independent of the thread count: sums run in row order,
 * and the kernels used have no horizontal sums.
 */
public final class OpqTrainer {

  /**
   * Outer iterations. FAISS's {@code niter} is 50; on Debian MiniLM (28,000 x 384, OPQ32) 25
   * iterations end 3.7% above the error of 50 in half the time, and give FAISS's recall.
   */
  public static final int DEFAULT_ITERATIONS = 25;

  /** Lloyd iterations of the PQ per outer iteration, FAISS's {@code niter_pq}. */
  public static final int DEFAULT_PQ_ITERATIONS = 4;

  /** k-means iterations of the first PQ, FAISS's {@code niter_pq_0}. */
  public static final int DEFAULT_FIRST_PQ_ITERATIONS = 40;

  /** Sample cap, FAISS's {@code max_train_points} ({@code 256 * 256}). */
  public static final int DEFAULT_MAX_TRAINING_POINTS = 65_536;

  /** Rows per task in the assignment and the error sum. */
  static final int CHUNK = 256;

  /** Rows of the sample rotated between two polls. */
  static final int ROTATE_ROWS = 4096;

  private OpqTrainer() {}

  /**
   * Training parameters.
   *
   * @param iterations outer iterations (rotation updates plus one), at least 1
   * @param pqIterations Lloyd iterations of the PQ in each outer iteration after the first
   * @param firstPqIterations k-means iterations of the PQ in the first outer iteration
   * @param maxTrainingPoints larger inputs are subsampled to this many rows
   * @param seed seeds the sample, the initial rotation and the first PQ
   * @param threads worker threads for this call
   * @param progress told after every step, {@link #steps} in all (see the class comment); the
   *     last step of each outer iteration carries the mean over the sample of the squared
   *     distance from each rotated vector to its PQ reconstruction, the others NaN; also polled
   *     between steps
   */
  public record Params(
      int iterations,
      int pqIterations,
      int firstPqIterations,
      int maxTrainingPoints,
      long seed,
      int threads,
      TrainingProgress progress) {

    public Params {
      if (iterations < 1) {
        throw new IllegalArgumentException("iterations must be >= 1, got " + iterations);
      }
      if (pqIterations < 0) {
        throw new IllegalArgumentException("pqIterations must be >= 0, got " + pqIterations);
      }
      if (firstPqIterations < 0) {
        throw new IllegalArgumentException(
            "firstPqIterations must be >= 0, got " + firstPqIterations);
      }
      if (maxTrainingPoints <= 0) {
        throw new IllegalArgumentException(
            "maxTrainingPoints must be positive, got " + maxTrainingPoints);
      }
      if (threads <= 0) {
        throw new IllegalArgumentException("threads must be positive, got " + threads);
      }
      Objects.requireNonNull(progress, "progress");
    }

    /** FAISS's defaults except {@link #DEFAULT_ITERATIONS}, one thread per available processor. */
    public static Params defaults() {
      return new Params(
          DEFAULT_ITERATIONS, DEFAULT_PQ_ITERATIONS, DEFAULT_FIRST_PQ_ITERATIONS,
          DEFAULT_MAX_TRAINING_POINTS, KMeans.DEFAULT_SEED,
          Runtime.getRuntime().availableProcessors(), TrainingProgress.NONE);
    }

    public Params withIterations(int iterations) {
      return new Params(iterations, pqIterations, firstPqIterations, maxTrainingPoints, seed,
          threads, progress);
    }

    public Params withPqIterations(int pqIterations) {
      return new Params(iterations, pqIterations, firstPqIterations, maxTrainingPoints, seed,
          threads, progress);
    }

    public Params withFirstPqIterations(int firstPqIterations) {
      return new Params(iterations, pqIterations, firstPqIterations, maxTrainingPoints, seed,
          threads, progress);
    }

    public Params withMaxTrainingPoints(int maxTrainingPoints) {
      return new Params(iterations, pqIterations, firstPqIterations, maxTrainingPoints, seed,
          threads, progress);
    }

    public Params withSeed(long seed) {
      return new Params(iterations, pqIterations, firstPqIterations, maxTrainingPoints, seed,
          threads, progress);
    }

    public Params withThreads(int threads) {
      return new Params(iterations, pqIterations, firstPqIterations, maxTrainingPoints, seed,
          threads, progress);
    }

    public Params withProgress(TrainingProgress progress) {
      return new Params(iterations, pqIterations, firstPqIterations, maxTrainingPoints, seed,
          threads, progress);
    }

    /**
     * Steps of a training with {@code m} sub-spaces, {@code m} for each pass over all of them:
     * {@code firstPqIterations + 1} such passes in the first outer iteration (its PQ, then the
     * assignment), {@code pqIterations + 2} in each later one (the rotation update and {@code
     * pqIterations + 1} assignments).
     */
    public int steps(int m) {
      long passes = firstPqIterations + 1 + (long) (iterations - 1) * (pqIterations + 2);
      return Math.toIntExact(passes * m);
    }
  }

  /**
   * What training produced.
   *
   * @param rotation the learned rotation {@code R}
   * @param pq the quantizer of rotated vectors {@code R x}
   */
  public record Result(OpqRotation rotation, ProductQuantizer pq) {
    public Result {
      Objects.requireNonNull(rotation, "rotation");
      Objects.requireNonNull(pq, "pq");
    }
  }

  /**
   * Trains a rotation and {@code m} sub-quantizers of {@code 2^nbits} centroids on the rows of
   * {@code data}.
   *
   * @throws IllegalArgumentException if {@code m} does not divide the dimension, for a shape
   *     {@link ProductQuantizer#checkShape} rejects, fewer rows (or {@code maxTrainingPoints})
   *     than {@code 2^nbits}, or a value that is NaN or infinite
   */
  public static Result train(FloatMatrix data, int m, int nbits, Params params) {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(params, "params");
    int d = data.dim();
    String task = "OPQ" + m;
    if (m > 0 && d % m != 0) {
      throw new IllegalArgumentException(task + ": m=" + m + " does not divide the dimension " + d);
    }
    ProductQuantizer.checkShape(d, m, nbits);
    int ksub = 1 << nbits;
    int n = data.rows();
    if (n < ksub) {
      throw new IllegalArgumentException(
          task + ": training needs at least ksub=" + ksub + " vectors, got " + n);
    }
    if (params.maxTrainingPoints() < ksub) {
      throw new IllegalArgumentException(task + ": maxTrainingPoints="
          + params.maxTrainingPoints() + " is below ksub=" + ksub);
    }
    SplittableRandom rng = new SplittableRandom(params.seed());
    int[] rows = KMeans.sampleRows(n, 1, params.maxTrainingPoints(), rng);
    for (int row : rows) {
      VectorUtil.checkFinite(data.data(), data.offset(row), d, "training vector " + row);
    }
    FloatMatrix x = KMeans.gatherRows(data, rows);
    float[] mean = centerColumns(x);
    OpqRotation rotation = OpqRotation.random(d, rng.nextLong());
    long pqSeed = rng.nextLong();

    TrainingProgress progress = params.progress();
    Steps steps = new Steps(task, params.steps(m), progress);
    try (ParallelFor workers = ParallelFor.owned(params.threads(), "codebook-opq-train")) {
      Codebooks books = new Codebooks(x.rows(), d, m, ksub, workers, progress);
      for (int it = 0; ; it++) {
        FloatMatrix rotated = rotate(rotation, x, params.threads(), progress);
        if (it == 0) {
          // Each Lloyd iteration of a sub-space of the first PQ is a pass.
          PqTrainer.Params first = PqTrainer.Params.defaults()
              .withIterations(params.firstPqIterations()).withSeed(pqSeed)
              .withMaxPointsPerCentroid(Integer.MAX_VALUE).withThreads(params.threads())
              .withProgress(TrainingProgress.pollsOnly(progress));
          books.setCentroids(
              PqTrainer.train(rotated, m, nbits, first, steps.perPass()).centroids());
          books.assign(rotated);
        } else {
          books.assign(rotated);
          for (int p = 0; p < params.pqIterations(); p++) {
            steps.advance(m, Double.NaN);
            books.update(rotated);
            books.assign(rotated);
          }
        }
        double mse = books.squaredError(rotated) / x.rows();
        steps.advance(m, mse);
        if (it == params.iterations() - 1) {
          break;
        }
        DMatrixRMaj crossCovariance = books.crossCovariance(x);
        progress.poll();
        rotation = procrustes(crossCovariance, task);
        steps.advance(m, Double.NaN);
      }
      float[] centroids = books.centroids;
      float[] shift = new float[d];
      rotation.apply(mean, 0, shift, 0);
      int dsub = d / m;
      for (int s = 0; s < m; s++) {
        for (int c = 0; c < ksub; c++) {
          for (int j = 0, at = (s * ksub + c) * dsub; j < dsub; j++) {
            centroids[at + j] += shift[s * dsub + j];
          }
        }
      }
      return new Result(rotation, new ProductQuantizer(d, m, nbits, centroids));
    }
  }

  /** {@code rotation.applyAll(x)}, polling between slices of {@value #ROTATE_ROWS} rows. */
  private static FloatMatrix rotate(
      OpqRotation rotation, FloatMatrix x, int threads, TrainingProgress progress) {
    float[] out = new float[x.data().length];
    for (int from = 0; from < x.rows(); from += ROTATE_ROWS) {
      progress.poll();
      rotation.applyRows(x, from, Math.min(x.rows(), from + ROTATE_ROWS), out, threads);
    }
    progress.poll();
    return new FloatMatrix(x.rows(), x.dim(), out);
  }

  /** Subtracts the column means (summed in double, row order) in place and returns them. */
  private static float[] centerColumns(FloatMatrix x) {
    int d = x.dim();
    float[] v = x.data();
    double[] sum = new double[d];
    for (int i = 0; i < x.rows(); i++) {
      for (int j = 0, off = i * d; j < d; j++) {
        sum[j] += v[off + j];
      }
    }
    float[] mean = new float[d];
    for (int j = 0; j < d; j++) {
      mean[j] = (float) (sum[j] / x.rows());
    }
    for (int i = 0; i < x.rows(); i++) {
      for (int j = 0, off = i * d; j < d; j++) {
        v[off + j] -= mean[j];
      }
    }
    return mean;
  }

  /**
   * The rotation {@code R} minimizing {@code ||X R^T - Y||} given {@code M = X^T Y}: {@code
   * ||X R^T - Y||^2 = const - 2 tr(R M)}, and with {@code M = U S V^T} the trace is largest,
   * {@code tr(S)}, at {@code R = V U^T}.
   */
  static OpqRotation procrustes(DMatrixRMaj crossCovariance, String task) {
    int d = crossCovariance.numRows;
    SingularValueDecomposition_F64<DMatrixRMaj> svd =
        DecompositionFactory_DDRM.svd(d, d, true, true, false);
    if (!svd.decompose(crossCovariance)) {
      throw new IllegalStateException(task + ": the SVD of X^T Y did not converge");
    }
    DMatrixRMaj u = svd.getU(null, false);
    DMatrixRMaj v = svd.getV(null, false);
    DMatrixRMaj r = new DMatrixRMaj(d, d);
    CommonOps_DDRM.multTransB(v, u, r);
    float[] f = new float[d * d];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) r.data[i];
    }
    return new OpqRotation(d, f);
  }

  /** Counts the steps of one training and reports them, one call at a time. */
  private static final class Steps {
    private final String task;
    private final int total;
    private final TrainingProgress progress;
    private int done;

    Steps(String task, int total, TrainingProgress progress) {
      this.task = task;
      this.total = total;
      this.progress = progress;
    }

    /** Reports {@code passes} more steps. */
    synchronized void advance(int passes, double objective) {
      done += passes;
      progress.onStep(task, done, total, objective);
    }

    /** A receiver for an inner trainer whose every step is one pass. */
    TrainingProgress perPass() {
      return new TrainingProgress() {
        @Override
        public void onStep(String innerTask, int step, int steps, double objective) {
          advance(1, Double.NaN);
        }

        @Override
        public void poll() {
          progress.poll();
        }
      };
    }
  }

  /**
   * The PQ being trained on the rotated sample: centroids laid out as {@link ProductQuantizer}
   * stores them, {@code [m][ksub][dsub]}, and the sample's codes, {@code m} per row.
   */
  private static final class Codebooks {
    private final KernelSupport kernels = VectorKernels.support();
    private final ParallelFor workers;
    /** Polled per chunk of rows (per sub-space in {@link #update}). */
    private final TrainingProgress progress;
    private final int n;
    private final int d;
    private final int m;
    private final int ksub;
    private final int dsub;
    private final float[] centroids;
    /**
     * {@code -2 * centroids}, transposed per sub-space: component {@code j} of centroid {@code c}
     * of sub-space {@code s} at {@code (s * dsub + j) * ksub + c}.
     */
    private final float[] centroidsT;
    private final float[] norms;
    private final byte[] codes;

    Codebooks(int n, int d, int m, int ksub, ParallelFor workers, TrainingProgress progress) {
      this.workers = workers;
      this.progress = progress;
      this.n = n;
      this.d = d;
      this.m = m;
      this.ksub = ksub;
      this.dsub = d / m;
      this.centroids = new float[m * ksub * dsub];
      this.centroidsT = new float[centroids.length];
      this.norms = new float[m * ksub];
      this.codes = new byte[Math.multiplyExact(n, m)];
    }

    void setCentroids(float[] c) {
      System.arraycopy(c, 0, centroids, 0, centroids.length);
    }

    /**
     * Codes every row: the nearest centroid of each sub-space, ranked by {@code ||c||^2 - 2 x.c}
     * four rows per kernel call as in {@link KMeans}, read in place from the rotated rows.
     */
    void assign(FloatMatrix rotated) {
      for (int s = 0; s < m; s++) {
        for (int c = 0; c < ksub; c++) {
          float norm = 0;
          int src = (s * ksub + c) * dsub;
          for (int j = 0; j < dsub; j++) {
            float v = centroids[src + j];
            norm += v * v;
            centroidsT[(s * dsub + j) * ksub + c] = -2 * v;
          }
          norms[s * ksub + c] = norm;
        }
      }
      float[] x = rotated.data();
      int last = n - 1;
      workers.run((n + CHUNK - 1) / CHUNK, chunk -> {
        progress.poll();
        float[] scores = new float[4 * ksub];
        int end = Math.min(n, (chunk + 1) * CHUNK);
        for (int p = chunk * CHUNK; p < end; p += 4) {
          // A short last group repeats its last row; the extra results are dropped.
          int lanes = Math.min(4, end - p);
          int x0 = p * d;
          int x1 = Math.min(p + 1, last) * d;
          int x2 = Math.min(p + 2, last) * d;
          int x3 = Math.min(p + 3, last) * d;
          for (int s = 0, sub = 0; s < m; s++, sub += dsub) {
            kernels.dotProductsTransposed4(
                x, x0 + sub, x1 + sub, x2 + sub, x3 + sub, centroidsT, s * dsub * ksub, dsub,
                ksub, norms, s * ksub, scores, 0);
            for (int r = 0; r < lanes; r++) {
              codes[(p + r) * m + s] = (byte) kernels.argMin(scores, r * ksub, ksub);
            }
          }
        }
      });
    }

    /**
     * Moves each centroid to the mean of its rows, summed in double in row order. An empty
     * centroid moves onto the row farthest from its own centroid in that sub-space: nothing is
     * assigned to it, so the error does not change now and drops at the next assignment.
     */
    void update(FloatMatrix rotated) {
      float[] x = rotated.data();
      workers.run(m, s -> {
        progress.poll();
        double[] sum = new double[ksub * dsub];
        int[] count = new int[ksub];
        int from = s * dsub;
        for (int i = 0; i < n; i++) {
          int c = codes[i * m + s] & 0xFF;
          count[c]++;
          for (int j = 0, src = i * d + from, dst = c * dsub; j < dsub; j++) {
            sum[dst + j] += x[src + j];
          }
        }
        int base = s * ksub * dsub;
        boolean empty = false;
        for (int c = 0; c < ksub; c++) {
          if (count[c] == 0) {
            empty = true;
            continue;
          }
          double inv = 1.0 / count[c];
          for (int j = 0; j < dsub; j++) {
            centroids[base + c * dsub + j] = (float) (sum[c * dsub + j] * inv);
          }
        }
        if (empty) {
          reseedEmpty(x, s, count);
        }
      });
    }

    private void reseedEmpty(float[] x, int s, int[] count) {
      int from = s * dsub;
      int base = s * ksub * dsub;
      double[] err = new double[n];
      for (int i = 0; i < n; i++) {
        int c = codes[i * m + s] & 0xFF;
        err[i] = squareDistance(x, i * d + from, centroids, base + c * dsub, dsub);
      }
      for (int c = 0; c < ksub; c++) {
        if (count[c] != 0) {
          continue;
        }
        int far = 0;
        for (int i = 1; i < n; i++) {
          if (err[i] > err[far]) {
            far = i;
          }
        }
        System.arraycopy(x, far * d + from, centroids, base + c * dsub, dsub);
        err[far] = -1;
      }
    }

    /** Sum over the rows of the squared distance to their reconstruction, in double. */
    double squaredError(FloatMatrix rotated) {
      float[] x = rotated.data();
      int chunks = (n + CHUNK - 1) / CHUNK;
      double[] partial = new double[chunks];
      workers.run(chunks, chunk -> {
        progress.poll();
        double sum = 0;
        for (int i = chunk * CHUNK, end = Math.min(n, i + CHUNK); i < end; i++) {
          for (int s = 0; s < m; s++) {
            int c = codes[i * m + s] & 0xFF;
            sum += squareDistance(x, i * d + s * dsub, centroids, (s * ksub + c) * dsub, dsub);
          }
        }
        partial[chunk] = sum;
      });
      double total = 0;
      for (double p : partial) {
        total += p;
      }
      return total;
    }

    /**
     * {@code X^T Y} for the unrotated centered sample {@code X} and the reconstruction {@code Y}:
     * column block {@code s} is {@code sum_c (sum of the rows of X coded c in sub-space s)
     * centroid(s, c)}. Each task owns a few sub-spaces and reads X once for all of them.
     */
    DMatrixRMaj crossCovariance(FloatMatrix centered) {
      float[] x = centered.data();
      DMatrixRMaj out = new DMatrixRMaj(d, d);
      double[] mm = out.data;
      // Each sub-space's sums run in row order whatever the grouping, so it may follow threads.
      int perTask = Math.max(1, (m + workers.threads() - 1) / workers.threads());
      int tasks = (m + perTask - 1) / perTask;
      workers.run(tasks, task -> {
        int s0 = task * perTask;
        int s1 = Math.min(m, s0 + perTask);
        double[][] sums = new double[s1 - s0][ksub * d];
        for (int i = 0; i < n; i++) {
          if (i % CHUNK == 0) {
            progress.poll();
          }
          int row = i * d;
          for (int s = s0; s < s1; s++) {
            double[] sum = sums[s - s0];
            int dst = (codes[i * m + s] & 0xFF) * d;
            for (int j = 0; j < d; j++) {
              sum[dst + j] += x[row + j];
            }
          }
        }
        for (int s = s0; s < s1; s++) {
          double[] sum = sums[s - s0];
          for (int c = 0; c < ksub; c++) {
            int cen = (s * ksub + c) * dsub;
            for (int b = 0; b < d; b++) {
              double v = sum[c * d + b];
              for (int a = 0, at = b * d + s * dsub; a < dsub; a++) {
                mm[at + a] += v * centroids[cen + a];
              }
            }
          }
        }
      });
      return out;
    }

    private static double squareDistance(float[] a, int aOff, float[] b, int bOff, int len) {
      double sum = 0;
      for (int j = 0; j < len; j++) {
        double t = (double) a[aOff + j] - b[bOff + j];
        sum += t * t;
      }
      return sum;
    }
  }
}
