package dev.codebook.index.simd;

/**
 * The hot loops of Codebook, as a service provider interface with two implementations: {@link
 * ScalarKernelSupport} (plain Java, the reference) and the Vector API twin in {@code
 * dev.codebook.index.simd.panama}. {@link KernelProvider} picks one at start-up.
 *
 * <p>Implementations only {@code assert} their preconditions; {@link VectorKernels} validates
 * arguments for callers outside the hot path. Every method here is allocation-free.
 */
public interface KernelSupport {

  /** Short name of the implementation: {@code "scalar"} or {@code "panama"}. */
  String name();

  /** Preferred SIMD register width in bits, 0 for scalar code. */
  int vectorBitSize();

  /** Dot product of {@code a[aOffset..aOffset+length)} and {@code b[bOffset..bOffset+length)}. */
  float dotProduct(float[] a, int aOffset, float[] b, int bOffset, int length);

  /** Squared Euclidean distance of the two ranges. */
  float squareDistance(float[] a, int aOffset, float[] b, int bOffset, int length);

  /**
   * Dot products of four queries with one vector, sharing every load of the vector: the
   * brute-force scan is memory bound, so scoring four queries per pass over the data quarters
   * the traffic. Queries are rows {@code q0..q3} (offsets into {@code queries}), the vector
   * starts at {@code vOffset} in {@code v}; results go to {@code out[outOffset..outOffset+4)}.
   */
  void dotProduct4(
      float[] queries, int q0, int q1, int q2, int q3, float[] v, int vOffset, int length,
      float[] out, int outOffset);

  /** Squared Euclidean distances of four queries to one vector; see {@link #dotProduct4}. */
  void squareDistance4(
      float[] queries, int q0, int q1, int q2, int q3, float[] v, int vOffset, int length,
      float[] out, int outOffset);
}
