package dev.codebook.index;

import dev.codebook.index.flat.FlatIndex;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
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
   */
  public record BuildOptions(long seed, int threads, Consumer<String> progress) {
    public BuildOptions {
      if (threads <= 0) {
        throw new IllegalArgumentException("threads must be positive, got " + threads);
      }
      progress = progress == null ? s -> {} : progress;
    }

    public static BuildOptions defaults() {
      return new BuildOptions(DEFAULT_SEED, Runtime.getRuntime().availableProcessors(), s -> {});
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
    throw new UnsupportedOperationException(
        "index spec '" + spec + "' is not available in this build yet: only Flat is");
  }
}
