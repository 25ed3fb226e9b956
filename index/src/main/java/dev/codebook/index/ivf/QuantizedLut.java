package dev.codebook.index.ivf;

/**
 * A float ADC table ({@code m x ksub} scores, higher better; {@code ksub} 16 or 256) quantized to
 * unsigned bytes for the fast-scan kernels: for 4-bit codes in {@link FastScanLayout}'s grouped
 * order, for 8-bit codes {@link FastScan8Layout}'s plain {@code m x 256}.
 *
 * <p>Entry {@code (s, c)} becomes {@code round((lut[s][c] - min_s) * scale)}, one scale for all
 * sub-quantizers so that byte sums stay proportional to float sums: {@code sum_float ≈ offset +
 * sum_bytes / scale}. The scale keeps {@code m * maxEntry <= 32767}, so 16-bit signed sums never
 * overflow. Each entry is off by at most half a step, so a byte sum is within {@code m/2} of the
 * exact scaled sum: {@link #threshold} subtracts that slack, which makes the quantized scan a
 * filter that never drops a vector the float table would keep.
 */
public final class QuantizedLut {

  private final int m;
  private final int ksub;
  private final byte[] tables;
  private final float[] mins;
  private float scale;
  private float offset;

  /** A table for 4-bit codes. */
  public QuantizedLut(int m) {
    this(m, 16);
  }

  /** A table for {@code m} sub-quantizers of {@code ksub} (16 or 256) centroids. */
  public QuantizedLut(int m, int ksub) {
    if (ksub != 16 && ksub != 256) {
      throw new IllegalArgumentException("ksub must be 16 or 256, got " + ksub);
    }
    this.m = m;
    this.ksub = ksub;
    this.tables = new byte[ksub == 16 ? FastScanLayout.lutBytes(m) : FastScan8Layout.lutBytes(m)];
    this.mins = new float[m];
  }

  /** The grouped byte tables the kernel reads. */
  public byte[] tables() {
    return tables;
  }

  /** Quantizes {@code lut[m * ksub]}; reuses this object's arrays (no allocation). */
  public void quantize(float[] lut) {
    float maxSpan = 0;
    float sumMin = 0;
    for (int s = 0; s < m; s++) {
      float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
      for (int c = 0, at = s * ksub; c < ksub; c++) {
        float v = lut[at + c];
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      mins[s] = lo;
      maxSpan = Math.max(maxSpan, hi - lo);
      sumMin += lo;
    }
    int maxEntry = Math.min(255, 32767 / m);
    float a = maxSpan > 0 ? maxEntry / maxSpan : 0f;
    if (ksub == 256) {
      quantize256(lut, a, maxEntry);
    } else {
      quantize16(lut, a, maxEntry);
    }
    this.scale = a;
    this.offset = sumMin;
  }

  private void quantize256(float[] lut, float a, int maxEntry) {
    for (int s = 0; s < m; s++) {
      float lo = mins[s];
      for (int c = 0, at = s * 256; c < 256; c++) {
        int q = (int) ((lut[at + c] - lo) * a + 0.5f);
        tables[at + c] = (byte) Math.min(maxEntry, q);
      }
    }
  }

  private void quantize16(float[] lut, float a, int maxEntry) {
    if ((m & 3) != 0) {
      java.util.Arrays.fill(tables, (byte) 0); // padding sub-quantizers of the last group
    }
    for (int s = 0; s < m; s++) {
      float lo = mins[s];
      int base = (s >>> 2) * 64 + (s & 3) * 16;
      for (int c = 0; c < 16; c++) {
        // Non-negative, so adding a half and truncating rounds (Math.round is far slower).
        int q = (int) ((lut[s * 16 + c] - lo) * a + 0.5f);
        tables[base + c] = (byte) Math.min(maxEntry, q);
      }
    }
  }

  /**
   * The smallest 16-bit sum a vector may have and still score at least {@code minScore - bias}
   * with the float table, less the rounding slack; {@code Integer.MIN_VALUE} keeps everything.
   */
  public int threshold(float minScore, float bias) {
    if (minScore == Float.NEGATIVE_INFINITY || scale == 0f) {
      return Integer.MIN_VALUE;
    }
    double exact = ((double) minScore - bias - offset) * scale;
    double t = Math.floor(exact - 0.5 * m) - 1;
    return t < Integer.MIN_VALUE ? Integer.MIN_VALUE : (int) Math.min(32767, t);
  }
}
