package dev.codebook.index.vector;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A benchmark dataset in the ann-benchmarks shape: base vectors to index, query vectors, and
 * optionally the exact answers that recall is measured against.
 *
 * @param source the file it was read from
 * @param train the base vectors (the index content)
 * @param test the query vectors, with the same dimension as {@code train}
 * @param neighbors exact nearest {@code train} rows per query, best first; null if not known
 * @param distances the distances of those neighbors, same shape; null if the file has none
 * @param similarity how the ground truth was ranked
 */
public record AnnDataset(
    Path source,
    FloatMatrix train,
    FloatMatrix test,
    IntMatrix neighbors,
    FloatMatrix distances,
    Similarity similarity) {

  public AnnDataset {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(train, "train");
    Objects.requireNonNull(test, "test");
    Objects.requireNonNull(similarity, "similarity");
    if (train.dim() != test.dim()) {
      throw new IllegalArgumentException(dimensionMismatch(train.dim(), test.dim()));
    }
    if (neighbors != null && neighbors.rows() != test.rows()) {
      throw new IllegalArgumentException(
          "neighbors has " + neighbors.rows() + " rows, test has " + test.rows());
    }
    if (distances != null && distances.rows() != test.rows()) {
      throw new IllegalArgumentException(
          "distances has " + distances.rows() + " rows, test has " + test.rows());
    }
  }

  /** The message for a train/test dimension mismatch, shared with the readers. */
  static String dimensionMismatch(int trainDim, int testDim) {
    return "vector dimensions differ: train has " + trainDim + ", test has " + testDim;
  }

  /** The vector dimension. */
  public int dim() {
    return train.dim();
  }

  /** Whether the exact neighbors are known, so recall can be measured. */
  public boolean hasGroundTruth() {
    return neighbors != null;
  }

  /**
   * This dataset with only the first {@code n} queries (and their ground truth), for quick runs;
   * {@code this} if it has no more than {@code n}.
   */
  public AnnDataset withQueryLimit(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("query limit must be >= 0, got " + n);
    }
    if (n >= test.rows()) {
      return this;
    }
    return new AnnDataset(
        source,
        train,
        test.head(n),
        neighbors == null ? null : neighbors.head(n),
        distances == null ? null : distances.head(n),
        similarity);
  }
}
