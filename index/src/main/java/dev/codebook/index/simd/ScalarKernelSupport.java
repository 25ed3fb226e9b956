package dev.codebook.index.simd;

/** Plain-Java kernels: the reference every SIMD kernel is tested against, and the fallback. */
public final class ScalarKernelSupport implements KernelSupport {

  public static final ScalarKernelSupport INSTANCE = new ScalarKernelSupport();

  private ScalarKernelSupport() {}

  @Override
  public String name() {
    return "scalar";
  }

  @Override
  public int vectorBitSize() {
    return 0;
  }

  @Override
  public float dotProduct(float[] a, int aOffset, float[] b, int bOffset, int length) {
    // Four accumulators break the add dependency chain, as the JIT won't reassociate floats.
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (int bound = length & ~3; i < bound; i += 4) {
      s0 += a[aOffset + i] * b[bOffset + i];
      s1 += a[aOffset + i + 1] * b[bOffset + i + 1];
      s2 += a[aOffset + i + 2] * b[bOffset + i + 2];
      s3 += a[aOffset + i + 3] * b[bOffset + i + 3];
    }
    for (; i < length; i++) {
      s0 += a[aOffset + i] * b[bOffset + i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  @Override
  public float squareDistance(float[] a, int aOffset, float[] b, int bOffset, int length) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (int bound = length & ~3; i < bound; i += 4) {
      float d0 = a[aOffset + i] - b[bOffset + i];
      float d1 = a[aOffset + i + 1] - b[bOffset + i + 1];
      float d2 = a[aOffset + i + 2] - b[bOffset + i + 2];
      float d3 = a[aOffset + i + 3] - b[bOffset + i + 3];
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    for (; i < length; i++) {
      float d = a[aOffset + i] - b[bOffset + i];
      s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
  }

  @Override
  public void dotProduct4(
      float[] queries, int q0, int q1, int q2, int q3, float[] v, int vOffset, int length,
      float[] out, int outOffset) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int i = 0; i < length; i++) {
      float x = v[vOffset + i];
      s0 += queries[q0 + i] * x;
      s1 += queries[q1 + i] * x;
      s2 += queries[q2 + i] * x;
      s3 += queries[q3 + i] * x;
    }
    out[outOffset] = s0;
    out[outOffset + 1] = s1;
    out[outOffset + 2] = s2;
    out[outOffset + 3] = s3;
  }

  @Override
  public void squareDistance4(
      float[] queries, int q0, int q1, int q2, int q3, float[] v, int vOffset, int length,
      float[] out, int outOffset) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int i = 0; i < length; i++) {
      float x = v[vOffset + i];
      float d0 = queries[q0 + i] - x;
      float d1 = queries[q1 + i] - x;
      float d2 = queries[q2 + i] - x;
      float d3 = queries[q3 + i] - x;
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    out[outOffset] = s0;
    out[outOffset + 1] = s1;
    out[outOffset + 2] = s2;
    out[outOffset + 3] = s3;
  }
}
