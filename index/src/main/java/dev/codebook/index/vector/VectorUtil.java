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
    // A plain double sum, not the SIMD kernel: its lane-sum order changes as the JIT warms up,
    // which made the same vectors normalize to different floats from run to run.
    double norm2 = 0;
    for (int i = 0; i < length; i++) {
      norm2 += (double) v[offset + i] * v[offset + i];
    }
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
}
