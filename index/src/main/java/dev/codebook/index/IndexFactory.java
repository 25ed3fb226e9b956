package dev.codebook.index;

import dev.codebook.index.flat.FlatIndex;
import dev.codebook.index.ivf.CoarseQuantizer;
import dev.codebook.index.ivf.PreselectorCalibration;
import dev.codebook.index.ivf.MappedRawVectors;
import dev.codebook.index.ivf.IvfPqIndex;
import dev.codebook.index.ivf.RawVectors;
import dev.codebook.index.quant.OpqRotation;
import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.train.KMeans;
import dev.codebook.index.train.OpqTrainer;
import dev.codebook.index.train.PqTrainer;
import dev.codebook.index.train.TrainingProgress;
import dev.codebook.index.vector.VectorUtil;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Creates an empty index for an {@link IndexSpec}, training its quantizers on a sample first.
 * This is the one place where "train" happens on the way to an index: the indexes themselves
 * receive trained codebooks and never train implicitly.
 */
public final class IndexFactory {

  /** Seed used when the caller does not choose one, so builds are reproducible by default. */
  public static final long DEFAULT_SEED = 1234L;

  /**
   * How to train.
   *
   * @param seed random seed for sampling and initialization
   * @param threads training threads
   * @param progress receives a human-readable line per step (may be a no-op)
   * @param steps receives each trainer step as numbers (a build job turns them into a progress
   *     fraction); called from worker threads, see {@link TrainingProgress}
   * @param cancelled polled at every trainer step and {@linkplain TrainingProgress#poll poll}
   *     and between phases (and by callers between encoding chunks, {@link #checkCancelled});
   *     when it turns true the build stops with a {@link CancellationException}
   * @param init how the coarse and PQ k-means pick their first centroids: the default
   *     k-means++ ({@link KMeans#DEFAULT_INIT}), or FAISS's random pick to train exactly as FAISS
   *     does when comparing recall with it
   * @param preselection the centroid pre-selector's calibration; null (the default) calibrates
   *     it on the training rows ({@link PreselectorCalibration#calibrate}); tests and
   *     measurements give one to exercise a path on purpose
   */
  public record BuildOptions(long seed, int threads, Consumer<String> progress,
      TrainingProgress steps, BooleanSupplier cancelled, KMeans.Init init,
      PreselectorCalibration preselection) {
    public BuildOptions {
      if (threads <= 0) {
        throw new IllegalArgumentException("threads must be positive, got " + threads);
      }
      progress = progress == null ? s -> {} : progress;
      steps = steps == null ? TrainingProgress.NONE : steps;
      cancelled = cancelled == null ? () -> false : cancelled;
      init = init == null ? KMeans.DEFAULT_INIT : init;
    }

    /** With the default initialization. */
    public BuildOptions(long seed, int threads, Consumer<String> progress,
        TrainingProgress steps, BooleanSupplier cancelled) {
      this(seed, threads, progress, steps, cancelled, null, null);
    }

    public BuildOptions withInit(KMeans.Init init) {
      return new BuildOptions(seed, threads, progress, steps, cancelled, init, preselection);
    }

    public BuildOptions withPreselection(PreselectorCalibration preselection) {
      return new BuildOptions(seed, threads, progress, steps, cancelled, init, preselection);
    }

    /** Progress as lines only, never cancelled. */
    public BuildOptions(long seed, int threads, Consumer<String> progress) {
      this(seed, threads, progress, TrainingProgress.NONE, () -> false);
    }

    public static BuildOptions defaults() {
      return new BuildOptions(DEFAULT_SEED, Runtime.getRuntime().availableProcessors(), s -> {});
    }

    /** @throws CancellationException if {@link #cancelled} says so */
    public void checkCancelled() {
      if (cancelled.getAsBoolean()) {
        throw new CancellationException("build cancelled");
      }
    }
  }

  private IndexFactory() {}

  /**
   * An empty index for {@code spec}, its quantizers trained on {@code trainingSet} (ignored by
   * Flat). Vectors are added afterwards with {@link VectorIndex#add}.
   *
   * @throws IllegalArgumentException if the spec does not fit the dimension
   * @throws UnsupportedOperationException for encodings this build does not implement yet
   */
  public static VectorIndex create(
      IndexSpec spec, int dimension, Similarity similarity, FloatMatrix trainingSet,
      BuildOptions options) {
    spec.validateFor(dimension);
    if (trainingSet != null && trainingSet.dim() != dimension) {
      throw new IllegalArgumentException(
          "training set: vector dimensions differ: " + trainingSet.dim() + "!=" + dimension);
    }
    if (spec.isFlat() && !spec.hasIvf()) {
      return new FlatIndex(dimension, similarity);
    }
    if (spec.isFlat()) {
      throw new UnsupportedOperationException(
          "index spec '" + spec + "' is not available in this build yet (IVF-Flat is to come);"
              + " available: Flat, [OPQ<m>,][IVF<n>,]PQ<m>[x4fs[r]][,RFlat]");
    }
    if (trainingSet == null || trainingSet.rows() == 0) {
      throw new IllegalArgumentException("index spec '" + spec + "' needs training vectors");
    }
    return trainIvfPq(spec, similarity, trainingSet, options);
  }

  /**
   * Full vectors for RFlat go to a memory-mapped temporary file (deleted at exit), not the heap:
   * only re-ranked candidates are read. A durable collection gives them a file of its own.
   */
  private static RawVectors rawVectorFile(int d) {
    try {
      Path f = Files.createTempFile("codebook-raw-", ".f32");
      f.toFile().deleteOnExit();
      return new MappedRawVectors(f, d);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary file for RFlat vectors", e);
    }
  }

  /**
   * Rows per slice of the passes over the whole training set between two trainers, each followed
   * by a cancellation check: a pass takes as long as several trainer steps and reports none.
   */
  private static final int SLICE_ROWS = 4096;

  /** {@code rotation.applyAll(x)}, a slice of rows at a time. */
  private static FloatMatrix rotate(OpqRotation rotation, FloatMatrix x, BuildOptions options) {
    float[] out = new float[x.data().length];
    for (int from = 0; from < x.rows(); from += SLICE_ROWS) {
      rotation.applyRows(x, from, Math.min(x.rows(), from + SLICE_ROWS), out, options.threads());
      options.checkCancelled();
    }
    return new FloatMatrix(x.rows(), x.dim(), out);
  }

  /** {@code coarse.assignAll(x)}, a slice of rows at a time. */
  private static int[] assign(CoarseQuantizer coarse, FloatMatrix x, BuildOptions options) {
    int[] lists = new int[x.rows()];
    for (int from = 0; from < x.rows(); from += SLICE_ROWS) {
      int to = Math.min(x.rows(), from + SLICE_ROWS);
      int[] part = coarse.assignAll(x.slice(from, to), options.threads());
      System.arraycopy(part, 0, lists, from, to - from);
      options.checkCancelled();
    }
    return lists;
  }

  private static IvfPqIndex trainIvfPq(
      IndexSpec spec, Similarity similarity, FloatMatrix trainingSet, BuildOptions options) {
    int d = trainingSet.dim();
    boolean innerProduct = similarity != Similarity.EUCLIDEAN;
    FloatMatrix x = trainingSet;
    if (similarity.normalizes()) {
      x = new FloatMatrix(x.rows(), d, x.data().clone());
      VectorUtil.normalizeRows(x, "training vectors");
    }
    TrainingProgress lines = TrainingProgress.lines(options.progress());
    // Every trainer step and poll is a cancellation point: k-means iterations and chunks, PQ
    // sub-spaces and their iterations, OPQ passes and phases. The exception unwinds through the
    // trainers' worker pools, which close themselves.
    TrainingProgress progress = new TrainingProgress() {
      @Override
      public void onStep(String task, int step, int steps, double objective) {
        options.checkCancelled();
        lines.onStep(task, step, steps, objective);
        options.steps().onStep(task, step, steps, objective);
      }

      @Override
      public void poll() {
        options.checkCancelled();
      }
    };
    options.checkCancelled();
    OpqRotation rotation = null;
    if (spec.opqM() > 0) {
      // As FAISS's OPQMatrix: the rotation is learned with an 8-bit PQ of opqM sub-spaces, which
      // is then dropped; the coarse quantizer and the index's own PQ are trained after it, on the
      // rotated vectors.
      rotation = OpqTrainer.train(x, spec.opqM(), 8, OpqTrainer.Params.defaults()
          .withSeed(options.seed() + 2).withThreads(options.threads()).withProgress(progress))
          .rotation();
      x = rotate(rotation, x, options);
    }
    CoarseQuantizer coarse = null;
    FloatMatrix pqInput = x;
    if (spec.hasIvf()) {
      if (spec.nlist() > x.rows()) {
        throw new IllegalArgumentException("IVF" + spec.nlist() + ": nlist exceeds the "
            + x.rows() + " training vectors");
      }
      KMeans.Result km = KMeans.train(x, spec.nlist(), KMeans.Params.defaults()
          .withIterations(KMeans.COARSE_ITERATIONS).withInit(options.init())
          .withSeed(options.seed()).withThreads(options.threads())
          .withSpherical(innerProduct).withProgress(progress));
      coarse = options.preselection() == null
          ? CoarseQuantizer.build(km.centroids(), innerProduct, x)
          : CoarseQuantizer.build(km.centroids(), innerProduct, options.preselection());
      if (coarse.preselectorPq() != null) {
        PreselectorCalibration c = coarse.calibration();
        options.progress().accept(c.floor() == 0
            ? "coarse pre-selection off: its codes miss the exact lists on this data"
            : "coarse pre-selection: at least " + c.floor() + " candidates, up to nprobe "
                + c.maxNprobe());
      }
      if (spec.residual()) {
        // PQ learns the residuals against each vector's own list centroid.
        float[] r = new float[x.data().length];
        float[] c = km.centroids().data();
        int[] lists = assign(coarse, x, options);
        for (int i = 0; i < x.rows(); i++) {
          int list = lists[i];
          for (int j = 0; j < d; j++) {
            r[i * d + j] = x.data()[i * d + j] - c[list * d + j];
          }
        }
        pqInput = new FloatMatrix(x.rows(), d, r);
      }
      options.checkCancelled();
    }
    ProductQuantizer pq = PqTrainer.train(pqInput, spec.pqM(), spec.nbits(),
        PqTrainer.Params.defaults().withSeed(options.seed() + 1).withThreads(options.threads())
            .withInit(options.init())
            .withProgress(progress));
    RawVectors raw = spec.refineFlat() ? rawVectorFile(d) : null;
    return new IvfPqIndex(spec, similarity, coarse, pq, raw, rotation);
  }
}
