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
   * The dot product of the two ranges divided by the norm of {@code b}, in one pass over
   * {@code b}: the cosine score of a unit query against a stored vector kept as it was given
   * (re-ranking from a segment's original vectors), without a second pass for the norm. 0 when
   * {@code b} is all zeros.
   */
  default float dotProductOverNorm(float[] a, int aOffset, float[] b, int bOffset, int length) {
    return dotProductOverNormFrom(a, aOffset, b, bOffset, 0, length, 0f, 0f);
  }

  /**
   * {@link #dotProductOverNorm} from element {@code from} on, given the dot product {@code dot}
   * and squared norm {@code norm2} of the elements before it: the scalar loop, and a vector
   * kernel's tail.
   */
  static float dotProductOverNormFrom(float[] a, int aOffset, float[] b, int bOffset, int from,
      int length, float dot, float norm2) {
    for (int i = from; i < length; i++) {
      float x = b[bOffset + i];
      dot = Math.fma(a[aOffset + i], x, dot);
      norm2 = Math.fma(x, x, norm2);
    }
    return overNorm(dot, norm2);
  }

  /** {@code dot / sqrt(norm2)}, 0 for a zero norm: the last step of {@link #dotProductOverNorm}. */
  static float overNorm(float dot, float norm2) {
    return norm2 > 0 ? (float) (dot / Math.sqrt(norm2)) : 0f;
  }

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

  /**
   * 8-bit ADC: for each of {@code count} codes of {@code m} bytes stored contiguously from
   * {@code codesOffset}, {@code out[i] = sum_s lut[s * 256 + code_i[s]]}. The table ({@code m x
   * 256} floats, 32 KB at m=32) stays in L1 while the codes stream through.
   */
  void adc8(byte[] codes, int codesOffset, int count, int m, float[] lut, float[] out);

  /**
   * 4-bit fast-scan of one block of 64 vectors in {@code dev.codebook.index.fastscan.FastScanLayout}:
   * sums the byte tables ({@code tables}, 64 bytes per four sub-quantizers) over {@code pairs}
   * 64-byte slabs in 16-bit lanes and returns the mask of vectors whose sum is at least {@code
   * threshold} (bit {@code v} for vector {@code v}); a threshold at or below 0 selects all. Every
   * sum must fit in 15 bits ({@code QuantizedLut} keeps {@code m * maxEntry <= 32767}), so no
   * vector reaches a threshold above 32767. Unless the threshold is above 32767 (nothing can
   * pass), the sums are written to {@code sums[0..64)}, vector {@code v}'s at {@code sums[v]}, so
   * callers can bound each survivor's score without re-scoring it.
   */
  long fastScan4(byte[] codes, int blockOffset, int pairs, byte[] tables, int threshold,
      short[] sums);

  /**
   * 8-bit fast-scan of one block of 64 vectors in {@code dev.codebook.index.fastscan.FastScan8Layout}:
   * sums the byte tables ({@code tables}, 256 bytes per sub-quantizer) over {@code m} 64-byte slabs
   * in 16-bit lanes and returns the mask of vectors whose sum is at least {@code threshold}, as
   * {@link #fastScan4} does, with the same 15-bit bound on every sum and the same {@code sums}.
   */
  long fastScan8(byte[] codes, int blockOffset, int m, byte[] tables, int threshold,
      short[] sums);

  /**
   * The smallest and largest of {@code v[offset..offset+length)} ({@code length > 0}, no NaN)
   * into {@code out[0]} and {@code out[1]}: the range of one sub-quantizer's ADC table.
   */
  void minMax(float[] v, int offset, int length, float[] out);

  /**
   * Quantizes ADC table entries to unsigned bytes: {@code out[outOffset + i] = min(maxValue,
   * (int) ((v[offset + i] - base) * scale + 0.5f))} for {@code i < length}, where every {@code
   * v[offset + i] >= base}, {@code scale >= 0} and {@code maxValue <= 255}.
   */
  void quantizeBytes(float[] v, int offset, int length, float base, float scale, int maxValue,
      byte[] out, int outOffset);

  /**
   * The smallest entry of each of {@code m} tables of {@code ksub} floats ({@code lut[s * ksub ..
   * (s + 1) * ksub)}, no NaN) into {@code mins[s]}; returns the largest span (max - min) of a
   * table. With {@link #quantizeTables}, the byte tables of a query's ADC table: one call each
   * rather than {@code m} calls of {@link #minMax} and {@link #quantizeBytes}.
   */
  default float tableMinima(float[] lut, int m, int ksub, float[] mins) {
    float span = 0;
    for (int s = 0, at = 0; s < m; s++, at += ksub) {
      float lo = lut[at], hi = lo;
      for (int i = 1; i < ksub; i++) {
        lo = Math.min(lo, lut[at + i]);
        hi = Math.max(hi, lut[at + i]);
      }
      mins[s] = lo;
      span = Math.max(span, hi - lo);
    }
    return span;
  }

  /**
   * {@link #quantizeBytes} of each table {@code s} against its base {@code mins[s]}, into {@code
   * out[s * ksub ..]}.
   */
  default void quantizeTables(float[] lut, int m, int ksub, float[] mins, float scale,
      int maxValue, byte[] out) {
    for (int s = 0; s < m; s++) {
      quantizeBytes(lut, s * ksub, ksub, mins[s], scale, maxValue, out, s * ksub);
    }
  }

  /**
   * The inner-product ADC table of a product quantizer in one call: for each sub-space {@code s <
   * m}, the dot products of {@code x[xOffset + s * dsub ..]} ({@code dsub} components) with its
   * {@code ksub} centroids, stored transposed at {@code t[s * ksub * dsub + j * ksub + c]}, into
   * {@code out[s * ksub + c]}; the same as {@code m} calls of {@link #dotProductsTransposed}.
   */
  default void dotProductTables(float[] x, int xOffset, float[] t, int m, int dsub, int ksub,
      float[] out) {
    for (int s = 0; s < m; s++) {
      dotProductsTransposed(x, xOffset + s * dsub, t, s * ksub * dsub, dsub, ksub, out, s * ksub);
    }
  }

  /**
   * Squared Euclidean distances from one vector to {@code count} vectors stored transposed
   * (component {@code j} of vector {@code c} at {@code t[tOffset + j * count + c]}), written to
   * {@code out[outOffset..outOffset+count)}. The lanes run across the vectors rather than along
   * them: a PQ sub-space has 4 to 32 dimensions, fewer than one 512-bit register holds, so a
   * row-major kernel would spend them in its scalar tail. Used for PQ lookup tables, encoding and
   * k-means in low dimensions.
   */
  void squareDistancesTransposed(
      float[] x, int xOffset, float[] t, int tOffset, int dim, int count, float[] out,
      int outOffset);

  /** Dot products of one vector with {@code count} transposed vectors; see {@link #squareDistancesTransposed}. */
  void dotProductsTransposed(
      float[] x, int xOffset, float[] t, int tOffset, int dim, int count, float[] out,
      int outOffset);

  /**
   * Dot products of four vectors with {@code count} transposed vectors, plus a bias, into four
   * rows of {@code out}: {@code out[outOffset + r * count + c] = bias[biasOffset + c] + x_r . t_c},
   * where {@code x_r} starts at {@code x0..x3} in {@code x} and {@code t_c} is laid out as in {@link
   * #squareDistancesTransposed}. This is the nearest-centroid search of k-means and bulk
   * assignment: with {@code t = -2 C^T} and the bias {@code ||c||^2} it yields {@code ||c||^2 - 2
   * x.c}, the squared distance up to the constant {@code ||x||^2}. Each load of {@code t} feeds
   * four FMAs and, the lanes running across centroids, there is no horizontal sum, so results do
   * not depend on the JIT tier (the Vector API leaves the order of a lane sum unspecified).
   */
  void dotProductsTransposed4(
      float[] x, int x0, int x1, int x2, int x3, float[] t, int tOffset, int dim, int count,
      float[] bias, int biasOffset, float[] out, int outOffset);

  /**
   * The squared length of {@code v[offset..offset+length)} in double, summed in a fixed order:
   * element {@code i} into partial sum {@code i % 16} (an FMA), then the partial sums pairwise,
   * {@code j} with {@code j + 8}, then {@code + 4}, {@code + 2}, {@code + 1}. Every
   * implementation returns the same bits, so a vector normalizes alike whichever kernels run and
   * however warm the JIT is (a lane sum in the Vector API's own order would not).
   */
  default double squaredNorm(float[] v, int offset, int length) {
    // Written out so that nothing is allocated: u_j = L_j + L_j+8, w_j = u_j + u_j+4, ...
    double u0 = lane(v, offset, length, 0) + lane(v, offset, length, 8);
    double u1 = lane(v, offset, length, 1) + lane(v, offset, length, 9);
    double u2 = lane(v, offset, length, 2) + lane(v, offset, length, 10);
    double u3 = lane(v, offset, length, 3) + lane(v, offset, length, 11);
    double u4 = lane(v, offset, length, 4) + lane(v, offset, length, 12);
    double u5 = lane(v, offset, length, 5) + lane(v, offset, length, 13);
    double u6 = lane(v, offset, length, 6) + lane(v, offset, length, 14);
    double u7 = lane(v, offset, length, 7) + lane(v, offset, length, 15);
    return ((u0 + u4) + (u2 + u6)) + ((u1 + u5) + (u3 + u7));
  }

  /** Partial sum {@code l} of {@link #squaredNorm}: the squares of elements {@code l, l + 16, ...}. */
  private static double lane(float[] v, int offset, int length, int l) {
    double s = 0;
    for (int i = l; i < length; i += 16) {
      double x = v[offset + i];
      s = Math.fma(x, x, s);
    }
    return s;
  }

  /**
   * Bit {@code i} set when {@code v[offset + i] >= threshold}, for {@code i < count <= 64}: the
   * entries of a block of scores that may enter a top-k whose bar is {@code threshold}. NaN
   * never passes.
   */
  default long atLeast(float[] v, int offset, int count, float threshold) {
    long mask = 0;
    for (int i = 0; i < count; i++) {
      if (v[offset + i] >= threshold) {
        mask |= 1L << i;
      }
    }
    return mask;
  }

  /**
   * Bit {@code i} set when {@code sums[i] >= threshold}, for the 64 sums a fast-scan kernel left
   * in {@code sums}: a block's survivors re-counted against a bar that rose after the scan.
   */
  default long atLeast(short[] sums, int threshold) {
    long mask = 0;
    for (int i = 0; i < 64; i++) {
      if (sums[i] >= threshold) {
        mask |= 1L << i;
      }
    }
    return mask;
  }

  /**
   * Position (relative to {@code offset}) of the smallest of {@code v[offset..offset+length)},
   * the first one on ties; {@code length} is positive and the values hold no NaN. The argmin
   * after {@link #squareDistancesTransposed} is the nearest-centroid search of PQ encoding.
   */
  int argMin(float[] v, int offset, int length);
}
