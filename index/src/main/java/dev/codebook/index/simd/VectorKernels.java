package dev.codebook.index.simd;

import java.util.Objects;

/**
 * Checked entry points to the selected {@link KernelSupport}: bounds are validated here, once
 * per call, so the kernels themselves only {@code assert}. Hot loops that have validated their
 * layout up front call {@link #support()} directly.
 */
public final class VectorKernels {

  private static final KernelSupport K = KernelProvider.get();

  private VectorKernels() {}

  /** The kernels in use by this JVM. */
  public static KernelSupport support() {
    return K;
  }

  public static float dotProduct(float[] a, float[] b) {
    checkSameLength(a, b);
    return K.dotProduct(a, 0, b, 0, a.length);
  }

  public static float squareDistance(float[] a, float[] b) {
    checkSameLength(a, b);
    return K.squareDistance(a, 0, b, 0, a.length);
  }

  public static float dotProduct(float[] a, int aOffset, float[] b, int bOffset, int length) {
    Objects.checkFromIndexSize(aOffset, length, a.length);
    Objects.checkFromIndexSize(bOffset, length, b.length);
    return K.dotProduct(a, aOffset, b, bOffset, length);
  }

  public static float squareDistance(float[] a, int aOffset, float[] b, int bOffset, int length) {
    Objects.checkFromIndexSize(aOffset, length, a.length);
    Objects.checkFromIndexSize(bOffset, length, b.length);
    return K.squareDistance(a, aOffset, b, bOffset, length);
  }

  private static void checkSameLength(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException(
          "vector dimensions differ: " + a.length + "!=" + b.length);
    }
  }
}
