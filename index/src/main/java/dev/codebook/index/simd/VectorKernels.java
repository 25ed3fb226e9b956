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
  /** Checked {@link KernelSupport#squareDistancesTransposed}. */
  public static void squareDistancesTransposed(
      float[] x, int xOffset, float[] t, int tOffset, int dim, int count, float[] out,
      int outOffset) {
    checkTransposed(x, xOffset, t, tOffset, dim, count, out, outOffset);
    K.squareDistancesTransposed(x, xOffset, t, tOffset, dim, count, out, outOffset);
  }

  /** Checked {@link KernelSupport#dotProductsTransposed}. */
  public static void dotProductsTransposed(
      float[] x, int xOffset, float[] t, int tOffset, int dim, int count, float[] out,
      int outOffset) {
    checkTransposed(x, xOffset, t, tOffset, dim, count, out, outOffset);
    K.dotProductsTransposed(x, xOffset, t, tOffset, dim, count, out, outOffset);
  }

  /** Checked {@link KernelSupport#dotProductsTransposed4}. */
  public static void dotProductsTransposed4(
      float[] x, int x0, int x1, int x2, int x3, float[] t, int tOffset, int dim, int count,
      float[] bias, int biasOffset, float[] out, int outOffset) {
    checkTransposed(x, x0, t, tOffset, dim, count, out, outOffset);
    Objects.checkFromIndexSize(x1, dim, x.length);
    Objects.checkFromIndexSize(x2, dim, x.length);
    Objects.checkFromIndexSize(x3, dim, x.length);
    Objects.checkFromIndexSize(biasOffset, count, bias.length);
    Objects.checkFromIndexSize(outOffset, Math.multiplyExact(4, count), out.length);
    K.dotProductsTransposed4(
        x, x0, x1, x2, x3, t, tOffset, dim, count, bias, biasOffset, out, outOffset);
  }

  /** Checked {@link KernelSupport#argMin}. */
  public static int argMin(float[] v, int offset, int length) {
    if (length <= 0) {
      throw new IllegalArgumentException("argMin of an empty range");
    }
    Objects.checkFromIndexSize(offset, length, v.length);
    return K.argMin(v, offset, length);
  }

  private static void checkTransposed(
      float[] x, int xOffset, float[] t, int tOffset, int dim, int count, float[] out,
      int outOffset) {
    if (dim <= 0 || count <= 0) {
      throw new IllegalArgumentException("dim and count must be positive, got " + dim + ", " + count);
    }
    Objects.checkFromIndexSize(xOffset, dim, x.length);
    Objects.checkFromIndexSize(tOffset, Math.multiplyExact(dim, count), t.length);
    Objects.checkFromIndexSize(outOffset, count, out.length);
  }

}
