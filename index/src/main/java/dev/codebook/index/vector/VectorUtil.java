package dev.codebook.index.vector;

/** Checks and transforms on single vectors, shared by indexes and readers. */
public final class VectorUtil {

  private VectorUtil() {}

  /**
   * Throws {@link IllegalArgumentException} naming {@code field} if the vector holds a NaN or an
   * infinity: one such value silently poisons every distance it touches.
   */
  public static void checkFinite(float[] v, int offset, int length, String field) {
    for (int i = 0; i < length; i++) {
      float x = v[offset + i];
      if (!Float.isFinite(x)) {
        throw new IllegalArgumentException(
            field + " has a non-finite value " + x + " at dimension " + i);
      }
    }
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

  /** Normalizes every row of {@code m} in place; see {@link #normalize}. */
  public static void normalizeRows(FloatMatrix m, String what) {
    for (int i = 0; i < m.rows(); i++) {
      normalize(m.data(), m.offset(i), m.dim(), what + "[" + i + "]");
    }
  }

  /**
   * The squared length in double. A plain sum, not the SIMD kernel: its lane-sum order changes as
   * the JIT warms up, which made the same vectors normalize to different floats from run to run.
   */
  public static double squaredNorm(float[] v, int offset, int length) {
    double norm2 = 0;
    for (int i = 0; i < length; i++) {
      norm2 += (double) v[offset + i] * v[offset + i];
    }
    return norm2;
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
      checkFinite(copy, i * dim, dim, "queries[" + i + "]");
      if (similarity.normalizes()) {
        normalize(copy, i * dim, dim, "queries[" + i + "]");
      }
    }
    return new FloatMatrix(queries.rows(), dim, copy);
  }
}
