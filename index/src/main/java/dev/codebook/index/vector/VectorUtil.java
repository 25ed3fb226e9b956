package dev.codebook.index.vector;

import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;

/** Checks and transforms on single vectors, shared by indexes and readers. */
public final class VectorUtil {

  private VectorUtil() {}

  /**
   * The largest squared length a vector may have under a metric that does not normalize (dot
   * product, L2): a quarter of the largest float, so that a dot product ({@code |a||b|}) and a
   * squared distance ({@code <= (|a|+|b|)^2}) between two such vectors stay finite in float.
   */
  public static final double MAX_SQUARED_NORM = Float.MAX_VALUE / 4.0;

  /**
   * Throws {@link IllegalArgumentException} naming row {@code row} of {@code what} if its
   * squared length {@code norm2} is above {@link #MAX_SQUARED_NORM}, where scores would
   * overflow to infinity.
   */
  public static void checkMagnitude(double norm2, String what, int row) {
    if (norm2 > MAX_SQUARED_NORM) {
      throw new IllegalArgumentException(tooLarge(what + "[" + row + "]", norm2));
    }
  }

  /** The message for a vector whose squared length {@code norm2} is too large. */
  public static String tooLarge(String field, double norm2) {
    return field + " is too large: its squared length " + (float) norm2 + " is above "
        + (float) MAX_SQUARED_NORM + ", where dot products and distances overflow to infinity;"
        + " scale the vectors down";
  }

  /**
   * Throws {@link IllegalArgumentException} naming {@code field} if the vector holds a NaN or an
   * infinity: one such value silently poisons every distance it touches.
   */
  public static void checkFinite(float[] v, int offset, int length, String field) {
    int bad = firstNonFinite(v, offset, length);
    if (bad >= 0) {
      throw new IllegalArgumentException(
          field + " has a non-finite value " + v[offset + bad] + " at dimension " + bad);
    }
  }

  /**
   * {@link #checkFinite} for row {@code row} of a batch named {@code what}: the field name
   * ({@code what[row]}) is only built for the error, not for every row of every batch.
   */
  public static void checkFinite(float[] v, int offset, int length, String what, int row) {
    if (firstNonFinite(v, offset, length) >= 0) {
      checkFinite(v, offset, length, what + "[" + row + "]");
    }
  }

  private static int firstNonFinite(float[] v, int offset, int length) {
    for (int i = 0; i < length; i++) {
      if (!Float.isFinite(v[offset + i])) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Scales {@code v[offset..offset+length)} to unit length in place.
   *
   * @throws IllegalArgumentException for a zero vector, which has no direction (a cosine of 0
   *     would be a silent wrong answer)
   */
  public static void normalize(float[] v, int offset, int length, String field) {
    double norm2 = squaredNorm(v, offset, length);
    if (!(norm2 > 0) || !Double.isFinite(norm2)) {
      throw new IllegalArgumentException(
          field + " cannot be normalized for cosine similarity: its norm is " + Math.sqrt(norm2));
    }
    float inv = (float) (1.0 / Math.sqrt(norm2));
    for (int i = 0; i < length; i++) {
      v[offset + i] *= inv;
    }
  }

  /** {@link #normalize} for row {@code row} of a batch named {@code what}; see checkFinite. */
  public static void normalize(float[] v, int offset, int length, String what, int row) {
    normalize(v, offset, length, what, row, squaredNorm(v, offset, length));
  }

  /** {@link #normalize(float[], int, int, String, int)} with the squared norm already known. */
  private static void normalize(float[] v, int offset, int length, String what, int row,
      double norm2) {
    if (!(norm2 > 0) || !Double.isFinite(norm2)) {
      normalize(v, offset, length, what + "[" + row + "]"); // throws, naming the row
    }
    float inv = (float) (1.0 / Math.sqrt(norm2));
    for (int i = 0; i < length; i++) {
      v[offset + i] *= inv;
    }
  }

  /** Normalizes every row of {@code m} in place; see {@link #normalize}. */
  public static void normalizeRows(FloatMatrix m, String what) {
    for (int i = 0; i < m.rows(); i++) {
      normalize(m.data(), m.offset(i), m.dim(), what, i);
    }
  }

  /**
   * The squared length in double, summed in the fixed order of {@link KernelSupport#squaredNorm}:
   * the same bits from every kernel and JIT tier, so a vector always normalizes to the same floats.
   */
  public static double squaredNorm(float[] v, int offset, int length) {
    return VectorKernels.support().squaredNorm(v, offset, length);
  }

  /**
   * The squared norm of query {@code row}, having thrown as {@link #checkFinite} does if it holds
   * a NaN or an infinity. The float64 sum is finite exactly when every component is (a float
   * squared cannot overflow a double), so one pass checks and measures.
   */
  private static double finiteSquaredNorm(float[] v, int offset, int length, int row) {
    double norm2 = squaredNorm(v, offset, length);
    if (!Double.isFinite(norm2)) {
      checkFinite(v, offset, length, "queries", row); // throws, naming the dimension
    }
    return norm2;
  }

  /**
   * Throws what {@link #prepareQueries} would for {@code queries} (wrong dimension, a non-finite
   * value, a zero vector under cosine) without copying them: a server validates a request once,
   * up front, before its segments each prepare their own copy.
   */
  public static void checkQueries(FloatMatrix queries, int dim, Similarity similarity) {
    if (queries.dim() != dim) {
      throw new IllegalArgumentException(
          "queries: vector dimensions differ: " + queries.dim() + "!=" + dim);
    }
    float[] v = queries.data();
    for (int i = 0; i < queries.rows(); i++) {
      int off = queries.offset(i);
      if (!similarity.normalizes()) {
        checkMagnitude(finiteSquaredNorm(v, off, dim, i), "queries", i);
      } else if (!(finiteSquaredNorm(v, off, dim, i) > 0)) {
        normalize(v.clone(), off, dim, "queries", i); // throws, naming the row
      }
    }
  }

  /**
   * A checked copy of {@code queries} in the form a scan expects: dimension {@code dim}, finite,
   * and normalized when {@code similarity} asks for it. The caller's array is not modified.
   */
  public static FloatMatrix prepareQueries(FloatMatrix queries, int dim, Similarity similarity) {
    if (queries.dim() != dim) {
      throw new IllegalArgumentException(
          "queries: vector dimensions differ: " + queries.dim() + "!=" + dim);
    }
    float[] copy = queries.data().clone();
    for (int i = 0; i < queries.rows(); i++) {
      if (similarity.normalizes()) {
        normalize(copy, i * dim, dim, "queries", i, finiteSquaredNorm(copy, i * dim, dim, i));
      } else {
        checkMagnitude(finiteSquaredNorm(copy, i * dim, dim, i), "queries", i);
      }
    }
    return new FloatMatrix(queries.rows(), dim, copy);
  }
}
