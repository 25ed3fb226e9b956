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

  @Override
  public void adc8(byte[] codes, int codesOffset, int count, int m, float[] lut, float[] out) {
    adc8Scalar(codes, codesOffset, count, m, lut, out);
  }

  /** Shared with the Panama provider: table lookups have no profitable vector form here. */
  public static void adc8Scalar(
      byte[] codes, int codesOffset, int count, int m, float[] lut, float[] out) {
    int i = 0;
    // Four codes at a time: four independent sums keep the loads in flight. Eight (or four codes
    // with two sums each) measured a third slower on Zen 4 at m=32 and m=48.
    for (; i + 4 <= count; i += 4) {
      int c0 = codesOffset + i * m, c1 = c0 + m, c2 = c1 + m, c3 = c2 + m;
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (int s = 0, t = 0; s < m; s++, t += 256) {
        s0 += lut[t + (codes[c0 + s] & 0xFF)];
        s1 += lut[t + (codes[c1 + s] & 0xFF)];
        s2 += lut[t + (codes[c2 + s] & 0xFF)];
        s3 += lut[t + (codes[c3 + s] & 0xFF)];
      }
      out[i] = s0;
      out[i + 1] = s1;
      out[i + 2] = s2;
      out[i + 3] = s3;
    }
    for (; i < count; i++) {
      int c = codesOffset + i * m;
      float sum = 0;
      for (int s = 0, t = 0; s < m; s++, t += 256) {
        sum += lut[t + (codes[c + s] & 0xFF)];
      }
      out[i] = sum;
    }
  }

  @Override
  public long fastScan4(byte[] codes, int blockOffset, int pairs, byte[] tables, int threshold,
      short[] sums) {
    if (threshold > Short.MAX_VALUE) {
      return 0L;
    }
    long mask = 0;
    for (int v = 0; v < 64; v++) {
      int pos = v < 32 ? 2 * v : 2 * (v - 32) + 1;
      int sum = 0;
      for (int p = 0; p < pairs; p++) {
        int b = codes[blockOffset + p * 64 + pos];
        int t = (p >>> 1) * 64 + (p & 1) * 32;
        sum += (tables[t + (b & 0x0F)] & 0xFF) + (tables[t + 16 + ((b >>> 4) & 0x0F)] & 0xFF);
      }
      sums[v] = (short) sum;
      if (sum >= threshold) {
        mask |= 1L << v;
      }
    }
    return mask;
  }

  @Override
  public long fastScan8(byte[] codes, int blockOffset, int m, byte[] tables, int threshold,
      short[] sums) {
    if (threshold > Short.MAX_VALUE) {
      return 0L;
    }
    long mask = 0;
    for (int v = 0; v < 64; v++) {
      int pos = blockOffset + (v < 32 ? 2 * v : 2 * (v - 32) + 1);
      int sum = 0;
      for (int s = 0; s < m; s++) {
        sum += tables[s * 256 + (codes[pos + s * 64] & 0xFF)] & 0xFF;
      }
      sums[v] = (short) sum;
      if (sum >= threshold) {
        mask |= 1L << v;
      }
    }
    return mask;
  }

  @Override
  public void minMax(float[] v, int offset, int length, float[] out) {
    float lo = v[offset], hi = lo;
    for (int i = 1; i < length; i++) {
      float x = v[offset + i];
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    out[0] = lo;
    out[1] = hi;
  }

  @Override
  public void quantizeBytes(float[] v, int offset, int length, float base, float scale,
      int maxValue, byte[] out, int outOffset) {
    for (int i = 0; i < length; i++) {
      // Non-negative, so adding a half and truncating rounds (Math.round is far slower).
      int q = (int) ((v[offset + i] - base) * scale + 0.5f);
      out[outOffset + i] = (byte) Math.min(maxValue, q);
    }
  }

  @Override
  public void squareDistancesTransposed(
      float[] x, int xOffset, float[] t, int tOffset, int dim, int count, float[] out,
      int outOffset) {
    assert dim > 0 && count > 0;
    // Row j of t is contiguous, so each inner loop is a plain stream the JIT can unroll.
    float x0 = x[xOffset];
    for (int c = 0; c < count; c++) {
      float d = x0 - t[tOffset + c];
      out[outOffset + c] = d * d;
    }
    for (int j = 1; j < dim; j++) {
      float xj = x[xOffset + j];
      int row = tOffset + j * count;
      for (int c = 0; c < count; c++) {
        float d = xj - t[row + c];
        out[outOffset + c] += d * d;
      }
    }
  }

  @Override
  public void dotProductsTransposed(
      float[] x, int xOffset, float[] t, int tOffset, int dim, int count, float[] out,
      int outOffset) {
    assert dim > 0 && count > 0;
    float x0 = x[xOffset];
    for (int c = 0; c < count; c++) {
      out[outOffset + c] = x0 * t[tOffset + c];
    }
    for (int j = 1; j < dim; j++) {
      float xj = x[xOffset + j];
      int row = tOffset + j * count;
      for (int c = 0; c < count; c++) {
        out[outOffset + c] += xj * t[row + c];
      }
    }
  }

  @Override
  public void dotProductsTransposed4(
      float[] x, int x0, int x1, int x2, int x3, float[] t, int tOffset, int dim, int count,
      float[] bias, int biasOffset, float[] out, int outOffset) {
    assert dim > 0 && count > 0;
    int o0 = outOffset, o1 = o0 + count, o2 = o1 + count, o3 = o2 + count;
    for (int c = 0; c < count; c++) {
      float b = bias[biasOffset + c];
      out[o0 + c] = b;
      out[o1 + c] = b;
      out[o2 + c] = b;
      out[o3 + c] = b;
    }
    for (int j = 0; j < dim; j++) {
      float v0 = x[x0 + j], v1 = x[x1 + j], v2 = x[x2 + j], v3 = x[x3 + j];
      int row = tOffset + j * count;
      for (int c = 0; c < count; c++) {
        float tc = t[row + c];
        out[o0 + c] += v0 * tc;
        out[o1 + c] += v1 * tc;
        out[o2 + c] += v2 * tc;
        out[o3 + c] += v3 * tc;
      }
    }
  }

  @Override
  public int argMin(float[] v, int offset, int length) {
    assert length > 0;
    int best = 0;
    float min = v[offset];
    for (int i = 1; i < length; i++) {
      if (v[offset + i] < min) {
        min = v[offset + i];
        best = i;
      }
    }
    return best;
  }
}
