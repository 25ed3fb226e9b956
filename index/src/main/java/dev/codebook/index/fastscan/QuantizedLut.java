package dev.codebook.index.fastscan;

import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;

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
  private double invScale; // 1 / scale: bounds multiply, survivors are many
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
    KernelSupport k = VectorKernels.support();
    float maxSpan = k.tableMinima(lut, m, ksub, mins);
    float sumMin = 0;
    for (int s = 0; s < m; s++) {
      sumMin += mins[s];
    }
    int maxEntry = Math.min(255, 32767 / m);
    float a = maxSpan > 0 ? maxEntry / maxSpan : 0f;
    // Both layouts put entry (s, c) at s * ksub + c: 4-bit groups of four tables are 4 x 16.
    k.quantizeTables(lut, m, ksub, mins, a, maxEntry, tables);
    this.scale = a;
    this.invScale = a > 0 ? 1.0 / a : 0;
    this.offset = sumMin;
  }

  /**
   * The lowest float score a vector whose byte sum is {@code sum} can have (its float table
   * score plus {@code bias}): each of the m entries was rounded by at most half a step, and one
   * more step covers float rounding. Negative infinity for a flat table, where bytes say nothing.
   */
  public float lowerBound(int sum, float bias) {
    return scale == 0f ? Float.NEGATIVE_INFINITY
        : Math.nextDown((float) (bias + offset + (sum - 0.5 * m - 1) * invScale));
  }

  /** The highest float score a vector whose byte sum is {@code sum} can have; see lowerBound. */
  public float upperBound(int sum, float bias) {
    return scale == 0f ? Float.POSITIVE_INFINITY
        : Math.nextUp((float) (bias + offset + (sum + 0.5 * m + 1) * invScale));
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
