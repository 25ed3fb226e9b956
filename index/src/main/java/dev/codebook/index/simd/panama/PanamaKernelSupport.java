package dev.codebook.index.simd.panama;

import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.ScalarKernelSupport;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels. The only code in Codebook that imports {@code jdk.incubator.vector}; {@link
 * dev.codebook.index.simd.KernelProvider} loads it by name so the rest runs without the module.
 */
public final class PanamaKernelSupport implements KernelSupport {

  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int LANES = F.length();
  /** Fast-scan needs 64 byte lanes (one vpermb over a 64-entry table); else it runs scalar. */
  static final boolean WIDE = ByteVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
  static final VectorSpecies<Byte> B512 = ByteVector.SPECIES_512;
  static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
  /** Bytes from one register of floats: a quarter register, as many lanes. */
  static final VectorSpecies<Byte> BYTES_OF_F =
      VectorSpecies.of(byte.class, jdk.incubator.vector.VectorShape.forBitSize(LANES * 8));

  static final VectorSpecies<Double> D512 = DoubleVector.SPECIES_512;
  /** Lane j takes lane j + 4 (mod 8), then j + 2: the fixed pairwise order of squaredNorm. */
  static final VectorShuffle<Double> PLUS4 = VectorShuffle.fromOp(D512, j -> (j + 4) & 7);
  static final VectorShuffle<Double> PLUS2 = VectorShuffle.fromOp(D512, j -> (j + 2) & 7);

  public PanamaKernelSupport() {
    if (LANES < 4) {
      // Below 128-bit registers the scalar loops win; the provider falls back on this.
      throw new UnsupportedOperationException("preferred float species has " + LANES + " lanes");
    }
  }

  @Override
  public String name() {
    return "panama";
  }

  @Override
  public int vectorBitSize() {
    return F.vectorBitSize();
  }

  // Every kernel's bytecode stays under C2's FreqInlineSize (325 bytes): past it a hot kernel is
  // not inlined into the loop calling it, which cost 20-40% at d=384 and 2x at d=96 on Zen 4
  // (bin/jmh KernelBenchmark). Hence two accumulators, not four, and the scalar tails in methods
  // of their own. Two are as fast as four in a scan: successive calls are independent, so the
  // out-of-order core overlaps one call's FMA chain with the next call's loads.

  @Override
  public float dotProduct(float[] a, int aOffset, float[] b, int bOffset, int length) {
    FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
    int i = 0;
    for (int bound = length - 2 * LANES; i <= bound; i += 2 * LANES) {
      acc0 = FloatVector.fromArray(F, a, aOffset + i)
          .fma(FloatVector.fromArray(F, b, bOffset + i), acc0);
      acc1 = FloatVector.fromArray(F, a, aOffset + i + LANES)
          .fma(FloatVector.fromArray(F, b, bOffset + i + LANES), acc1);
    }
    if (i <= length - LANES) {
      acc0 = FloatVector.fromArray(F, a, aOffset + i)
          .fma(FloatVector.fromArray(F, b, bOffset + i), acc0);
      i += LANES;
    }
    float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    return i == length ? sum : dotTail(a, aOffset, b, bOffset, i, length, sum);
  }

  private static float dotTail(
      float[] a, int aOffset, float[] b, int bOffset, int i, int length, float sum) {
    for (; i < length; i++) {
      sum = Math.fma(a[aOffset + i], b[bOffset + i], sum);
    }
    return sum;
  }

  @Override
  public float dotProductOverNorm(float[] a, int aOffset, float[] b, int bOffset, int length) {
    // One accumulator pair per quantity: the loads of b feed both, which is the point.
    FloatVector dot0 = FloatVector.zero(F), dot1 = FloatVector.zero(F);
    FloatVector sq0 = FloatVector.zero(F), sq1 = FloatVector.zero(F);
    int i = 0;
    for (int bound = length - 2 * LANES; i <= bound; i += 2 * LANES) {
      FloatVector x0 = FloatVector.fromArray(F, b, bOffset + i);
      FloatVector x1 = FloatVector.fromArray(F, b, bOffset + i + LANES);
      dot0 = FloatVector.fromArray(F, a, aOffset + i).fma(x0, dot0);
      dot1 = FloatVector.fromArray(F, a, aOffset + i + LANES).fma(x1, dot1);
      sq0 = x0.fma(x0, sq0);
      sq1 = x1.fma(x1, sq1);
    }
    float dot = dot0.add(dot1).reduceLanes(VectorOperators.ADD);
    float norm2 = sq0.add(sq1).reduceLanes(VectorOperators.ADD);
    return i == length ? KernelSupport.overNorm(dot, norm2)
        : KernelSupport.dotProductOverNormFrom(a, aOffset, b, bOffset, i, length, dot, norm2);
  }

  @Override
  public double squaredNorm(float[] v, int offset, int length) {
    if (LANES != 16) {
      return KernelSupport.super.squaredNorm(v, offset, length);
    }
    // Partial sums 0..7 in lo, 8..15 in hi, in double: the order the SPI fixes, so the bits
    // match the scalar form's.
    DoubleVector lo = DoubleVector.zero(D512), hi = DoubleVector.zero(D512);
    for (int i = 0; i < length; i += LANES) {
      // Lanes past the end load as zeros, and fma(0, 0, s) is s.
      FloatVector x = FloatVector.fromArray(F, v, offset + i, F.indexInRange(i, length));
      DoubleVector a = (DoubleVector) x.convertShape(VectorOperators.F2D, D512, 0);
      DoubleVector b = (DoubleVector) x.convertShape(VectorOperators.F2D, D512, 1);
      lo = a.fma(a, lo);
      hi = b.fma(b, hi);
    }
    DoubleVector u = lo.add(hi);
    DoubleVector w = u.add(u.rearrange(PLUS4));
    DoubleVector x = w.add(w.rearrange(PLUS2));
    return x.lane(0) + x.lane(1);
  }

  @Override
  public long atLeast(float[] v, int offset, int count, float threshold) {
    if (LANES != 16 || count != 64) {
      return KernelSupport.super.atLeast(v, offset, count, threshold);
    }
    return FloatVector.fromArray(F, v, offset).compare(VectorOperators.GE, threshold).toLong()
        | FloatVector.fromArray(F, v, offset + 16).compare(VectorOperators.GE, threshold)
            .toLong() << 16
        | FloatVector.fromArray(F, v, offset + 32).compare(VectorOperators.GE, threshold)
            .toLong() << 32
        | FloatVector.fromArray(F, v, offset + 48).compare(VectorOperators.GE, threshold)
            .toLong() << 48;
  }

  @Override
  public long atLeast(short[] sums, int threshold) {
    if (!WIDE) {
      return KernelSupport.super.atLeast(sums, threshold);
    }
    if (threshold > Short.MAX_VALUE) {
      return 0L;
    }
    short t = (short) Math.max(Short.MIN_VALUE, threshold);
    return ShortVector.fromArray(S512, sums, 0).compare(VectorOperators.GE, t).toLong()
        | ShortVector.fromArray(S512, sums, 32).compare(VectorOperators.GE, t).toLong() << 32;
  }

  @Override
  public float squareDistance(float[] a, int aOffset, float[] b, int bOffset, int length) {
    FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
    int i = 0;
    for (int bound = length - 2 * LANES; i <= bound; i += 2 * LANES) {
      FloatVector d0 = FloatVector.fromArray(F, a, aOffset + i)
          .sub(FloatVector.fromArray(F, b, bOffset + i));
      FloatVector d1 = FloatVector.fromArray(F, a, aOffset + i + LANES)
          .sub(FloatVector.fromArray(F, b, bOffset + i + LANES));
      acc0 = d0.fma(d0, acc0);
      acc1 = d1.fma(d1, acc1);
    }
    if (i <= length - LANES) {
      FloatVector d = FloatVector.fromArray(F, a, aOffset + i)
          .sub(FloatVector.fromArray(F, b, bOffset + i));
      acc0 = d.fma(d, acc0);
      i += LANES;
    }
    float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    return i == length ? sum : squareTail(a, aOffset, b, bOffset, i, length, sum);
  }

  private static float squareTail(
      float[] a, int aOffset, float[] b, int bOffset, int i, int length, float sum) {
    for (; i < length; i++) {
      float d = a[aOffset + i] - b[bOffset + i];
      sum = Math.fma(d, d, sum);
    }
    return sum;
  }

  @Override
  public void dotProduct4(
      float[] queries, int q0, int q1, int q2, int q3, float[] v, int vOffset, int length,
      float[] out, int outOffset) {
    // One load of the data vector feeds four FMAs: the four accumulators are the four queries.
    FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
    FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
    int i = 0;
    for (int bound = length - LANES; i <= bound; i += LANES) {
      FloatVector x = FloatVector.fromArray(F, v, vOffset + i);
      acc0 = FloatVector.fromArray(F, queries, q0 + i).fma(x, acc0);
      acc1 = FloatVector.fromArray(F, queries, q1 + i).fma(x, acc1);
      acc2 = FloatVector.fromArray(F, queries, q2 + i).fma(x, acc2);
      acc3 = FloatVector.fromArray(F, queries, q3 + i).fma(x, acc3);
    }
    out[outOffset] = acc0.reduceLanes(VectorOperators.ADD);
    out[outOffset + 1] = acc1.reduceLanes(VectorOperators.ADD);
    out[outOffset + 2] = acc2.reduceLanes(VectorOperators.ADD);
    out[outOffset + 3] = acc3.reduceLanes(VectorOperators.ADD);
    if (i < length) {
      tail4(false, queries, q0, q1, q2, q3, v, vOffset, i, length, out, outOffset);
    }
  }

  @Override
  public void squareDistance4(
      float[] queries, int q0, int q1, int q2, int q3, float[] v, int vOffset, int length,
      float[] out, int outOffset) {
    FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
    FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
    int i = 0;
    for (int bound = length - LANES; i <= bound; i += LANES) {
      FloatVector x = FloatVector.fromArray(F, v, vOffset + i);
      FloatVector d0 = FloatVector.fromArray(F, queries, q0 + i).sub(x);
      FloatVector d1 = FloatVector.fromArray(F, queries, q1 + i).sub(x);
      FloatVector d2 = FloatVector.fromArray(F, queries, q2 + i).sub(x);
      FloatVector d3 = FloatVector.fromArray(F, queries, q3 + i).sub(x);
      acc0 = d0.fma(d0, acc0);
      acc1 = d1.fma(d1, acc1);
      acc2 = d2.fma(d2, acc2);
      acc3 = d3.fma(d3, acc3);
    }
    out[outOffset] = acc0.reduceLanes(VectorOperators.ADD);
    out[outOffset + 1] = acc1.reduceLanes(VectorOperators.ADD);
    out[outOffset + 2] = acc2.reduceLanes(VectorOperators.ADD);
    out[outOffset + 3] = acc3.reduceLanes(VectorOperators.ADD);
    if (i < length) {
      tail4(true, queries, q0, q1, q2, q3, v, vOffset, i, length, out, outOffset);
    }
  }

  /** Adds elements {@code [i, length)} to the four partial sums in {@code out}. */
  private static void tail4(
      boolean distance, float[] queries, int q0, int q1, int q2, int q3, float[] v, int vOffset,
      int i, int length, float[] out, int outOffset) {
    for (int j = 0; j < 4; j++) {
      int q = j == 0 ? q0 : j == 1 ? q1 : j == 2 ? q2 : q3;
      float s = out[outOffset + j];
      for (int t = i; t < length; t++) {
        float x = queries[q + t];
        float y = v[vOffset + t];
        s = distance ? Math.fma(x - y, x - y, s) : Math.fma(x, y, s);
      }
      out[outOffset + j] = s;
    }
  }

  @Override
  public void adc8(byte[] codes, int codesOffset, int count, int m, float[] lut, float[] out) {
    // Scalar on purpose: over contiguous codes a gather per code (16 sub-quantizers, then a lane
    // sum) measured no faster on Zen 4 (JMH). Gathers only pay, by about 20%, with codes
    // transposed in blocks of 16 so the lanes run across codes: a layout change.
    ScalarKernelSupport.adc8Scalar(codes, codesOffset, count, m, lut, out);
  }

  @Override
  public long fastScan4(byte[] codes, int blockOffset, int pairs, byte[] tables, int threshold,
      short[] sums) {
    return PanamaCodeKernels.fastScan4(codes, blockOffset, pairs, tables, threshold, sums);
  }

  @Override
  public long fastScan8(byte[] codes, int blockOffset, int m, byte[] tables, int threshold,
      short[] sums) {
    return PanamaCodeKernels.fastScan8(codes, blockOffset, m, tables, threshold, sums);
  }

  @Override
  public void minMax(float[] v, int offset, int length, float[] out) {
    if (length < LANES) {
      ScalarKernelSupport.INSTANCE.minMax(v, offset, length, out);
      return;
    }
    // Compare-and-blend rather than min()/max(), which must order -0.0 and NaN (see argMin).
    FloatVector lo = FloatVector.fromArray(F, v, offset), hi = lo;
    int i = LANES;
    for (; i <= length - LANES; i += LANES) {
      FloatVector x = FloatVector.fromArray(F, v, offset + i);
      lo = lo.blend(x, x.lt(lo));
      hi = hi.blend(x, x.compare(VectorOperators.GT, hi));
    }
    float a = lo.reduceLanes(VectorOperators.MIN), b = hi.reduceLanes(VectorOperators.MAX);
    for (; i < length; i++) {
      a = Math.min(a, v[offset + i]);
      b = Math.max(b, v[offset + i]);
    }
    out[0] = a;
    out[1] = b;
  }

  @Override
  public float tableMinima(float[] lut, int m, int ksub, float[] mins) {
    return PanamaCodeKernels.tableMinima(lut, m, ksub, mins);
  }

  @Override
  public void quantizeTables(float[] lut, int m, int ksub, float[] mins, float scale,
      int maxValue, byte[] out) {
    PanamaCodeKernels.quantizeTables(lut, m, ksub, mins, scale, maxValue, out);
  }

  @Override
  public void dotProductTables(float[] x, int xOffset, float[] t, int m, int dsub, int ksub,
      float[] out) {
    if (ksub != LANES) {
      KernelSupport.super.dotProductTables(x, xOffset, t, m, dsub, ksub, out);
      return;
    }
    // Two sub-spaces a pass: two independent FMA chains, where one chain of dsub (8 at d=384,
    // m=48) waits out the FMA latency at every step.
    int s = 0;
    int step = dsub * LANES;
    for (int xo = xOffset, to = 0; s + 2 <= m; s += 2, xo += 2 * dsub, to += 2 * step) {
      FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
      for (int j = 0; j < dsub; j++) {
        acc0 = FloatVector.fromArray(F, t, to + j * LANES)
            .fma(FloatVector.broadcast(F, x[xo + j]), acc0);
        acc1 = FloatVector.fromArray(F, t, to + step + j * LANES)
            .fma(FloatVector.broadcast(F, x[xo + dsub + j]), acc1);
      }
      acc0.intoArray(out, s * LANES);
      acc1.intoArray(out, (s + 1) * LANES);
    }
    if (s < m) {
      dotProductsTransposed(x, xOffset + s * dsub, t, s * step, dsub, LANES, out, s * LANES);
    }
  }

  @Override
  public void quantizeBytes(float[] v, int offset, int length, float base, float scale,
      int maxValue, byte[] out, int outOffset) {
    PanamaCodeKernels.quantizeBytes(v, offset, length, base, scale, maxValue, out, outOffset);
  }

  @Override
  public void squareDistancesTransposed(
      float[] x, int xOffset, float[] t, int tOffset, int dim, int count, float[] out,
      int outOffset) {
    int c = 0;
    // Four registers of vectors per pass: one broadcast of x[j] feeds four independent FMA chains.
    for (int bound = count - 4 * LANES; c <= bound; c += 4 * LANES) {
      FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
      FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
      for (int j = 0, row = tOffset + c; j < dim; j++, row += count) {
        FloatVector xj = FloatVector.broadcast(F, x[xOffset + j]);
        FloatVector d0 = xj.sub(FloatVector.fromArray(F, t, row));
        FloatVector d1 = xj.sub(FloatVector.fromArray(F, t, row + LANES));
        FloatVector d2 = xj.sub(FloatVector.fromArray(F, t, row + 2 * LANES));
        FloatVector d3 = xj.sub(FloatVector.fromArray(F, t, row + 3 * LANES));
        acc0 = d0.fma(d0, acc0);
        acc1 = d1.fma(d1, acc1);
        acc2 = d2.fma(d2, acc2);
        acc3 = d3.fma(d3, acc3);
      }
      acc0.intoArray(out, outOffset + c);
      acc1.intoArray(out, outOffset + c + LANES);
      acc2.intoArray(out, outOffset + c + 2 * LANES);
      acc3.intoArray(out, outOffset + c + 3 * LANES);
    }
    // 4-bit PQ has 16 centroids: one register on AVX-512, so a single-register body is needed.
    for (int bound = count - LANES; c <= bound; c += LANES) {
      FloatVector acc = FloatVector.zero(F);
      for (int j = 0, row = tOffset + c; j < dim; j++, row += count) {
        FloatVector d = FloatVector.broadcast(F, x[xOffset + j]).sub(FloatVector.fromArray(F, t, row));
        acc = d.fma(d, acc);
      }
      acc.intoArray(out, outOffset + c);
    }
    for (; c < count; c++) {
      float sum = 0;
      for (int j = 0, row = tOffset + c; j < dim; j++, row += count) {
        float d = x[xOffset + j] - t[row];
        sum = Math.fma(d, d, sum);
      }
      out[outOffset + c] = sum;
    }
  }

  @Override
  public void dotProductsTransposed(
      float[] x, int xOffset, float[] t, int tOffset, int dim, int count, float[] out,
      int outOffset) {
    int c = 0;
    for (int bound = count - 4 * LANES; c <= bound; c += 4 * LANES) {
      FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
      FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
      for (int j = 0, row = tOffset + c; j < dim; j++, row += count) {
        FloatVector xj = FloatVector.broadcast(F, x[xOffset + j]);
        acc0 = FloatVector.fromArray(F, t, row).fma(xj, acc0);
        acc1 = FloatVector.fromArray(F, t, row + LANES).fma(xj, acc1);
        acc2 = FloatVector.fromArray(F, t, row + 2 * LANES).fma(xj, acc2);
        acc3 = FloatVector.fromArray(F, t, row + 3 * LANES).fma(xj, acc3);
      }
      acc0.intoArray(out, outOffset + c);
      acc1.intoArray(out, outOffset + c + LANES);
      acc2.intoArray(out, outOffset + c + 2 * LANES);
      acc3.intoArray(out, outOffset + c + 3 * LANES);
    }
    for (int bound = count - LANES; c <= bound; c += LANES) {
      FloatVector acc = FloatVector.zero(F);
      for (int j = 0, row = tOffset + c; j < dim; j++, row += count) {
        acc = FloatVector.fromArray(F, t, row).fma(FloatVector.broadcast(F, x[xOffset + j]), acc);
      }
      acc.intoArray(out, outOffset + c);
    }
    for (; c < count; c++) {
      float sum = 0;
      for (int j = 0, row = tOffset + c; j < dim; j++, row += count) {
        sum = Math.fma(x[xOffset + j], t[row], sum);
      }
      out[outOffset + c] = sum;
    }
  }

  /**
   * The four-register blocks of {@link #dotProductsTransposed4}: vectors {@code [0, c)} for the
   * largest multiple {@code c} of {@code 4 * LANES} up to {@code count}; returns {@code c}.
   */
  private static int fourByFour(float[] x, int x0, int x1, int x2, int x3, float[] t,
      int tOffset, int dim, int count, float[] bias, int biasOffset, float[] out, int o0) {
    int o1 = o0 + count, o2 = o1 + count, o3 = o2 + count;
    int c = 0;
    // Four registers of vectors by four points: sixteen accumulators, each load of t feeds four
    // FMAs and each broadcast four. About one 512-bit FMA per cycle on Zen 4 (d=384; see
    // CoarseProbeBenchmark); a throwaway JMH comparison put it 15-20% ahead of two registers.
    for (int bound = count - 4 * LANES; c <= bound; c += 4 * LANES) {
      FloatVector b0 = FloatVector.fromArray(F, bias, biasOffset + c);
      FloatVector b1 = FloatVector.fromArray(F, bias, biasOffset + c + LANES);
      FloatVector b2 = FloatVector.fromArray(F, bias, biasOffset + c + 2 * LANES);
      FloatVector b3 = FloatVector.fromArray(F, bias, biasOffset + c + 3 * LANES);
      FloatVector a00 = b0, a01 = b1, a02 = b2, a03 = b3, a10 = b0, a11 = b1, a12 = b2, a13 = b3;
      FloatVector a20 = b0, a21 = b1, a22 = b2, a23 = b3, a30 = b0, a31 = b1, a32 = b2, a33 = b3;
      for (int j = 0, row = tOffset + c; j < dim; j++, row += count) {
        FloatVector t0 = FloatVector.fromArray(F, t, row);
        FloatVector t1 = FloatVector.fromArray(F, t, row + LANES);
        FloatVector t2 = FloatVector.fromArray(F, t, row + 2 * LANES);
        FloatVector t3 = FloatVector.fromArray(F, t, row + 3 * LANES);
        FloatVector v = FloatVector.broadcast(F, x[x0 + j]);
        a00 = t0.fma(v, a00);
        a01 = t1.fma(v, a01);
        a02 = t2.fma(v, a02);
        a03 = t3.fma(v, a03);
        v = FloatVector.broadcast(F, x[x1 + j]);
        a10 = t0.fma(v, a10);
        a11 = t1.fma(v, a11);
        a12 = t2.fma(v, a12);
        a13 = t3.fma(v, a13);
        v = FloatVector.broadcast(F, x[x2 + j]);
        a20 = t0.fma(v, a20);
        a21 = t1.fma(v, a21);
        a22 = t2.fma(v, a22);
        a23 = t3.fma(v, a23);
        v = FloatVector.broadcast(F, x[x3 + j]);
        a30 = t0.fma(v, a30);
        a31 = t1.fma(v, a31);
        a32 = t2.fma(v, a32);
        a33 = t3.fma(v, a33);
      }
      a00.intoArray(out, o0 + c);
      a01.intoArray(out, o0 + c + LANES);
      a02.intoArray(out, o0 + c + 2 * LANES);
      a03.intoArray(out, o0 + c + 3 * LANES);
      a10.intoArray(out, o1 + c);
      a11.intoArray(out, o1 + c + LANES);
      a12.intoArray(out, o1 + c + 2 * LANES);
      a13.intoArray(out, o1 + c + 3 * LANES);
      a20.intoArray(out, o2 + c);
      a21.intoArray(out, o2 + c + LANES);
      a22.intoArray(out, o2 + c + 2 * LANES);
      a23.intoArray(out, o2 + c + 3 * LANES);
      a30.intoArray(out, o3 + c);
      a31.intoArray(out, o3 + c + LANES);
      a32.intoArray(out, o3 + c + 2 * LANES);
      a33.intoArray(out, o3 + c + 3 * LANES);
    }
    return c;
  }

  @Override
  public void dotProductsTransposed4(
      float[] x, int x0, int x1, int x2, int x3, float[] t, int tOffset, int dim, int count,
      float[] bias, int biasOffset, float[] out, int outOffset) {
    int o0 = outOffset, o1 = o0 + count, o2 = o1 + count, o3 = o2 + count;
    // In a method of its own, entered only when its loop runs: inlined into one with the loops
    // below, or profiled by calls that skip its loop (k-means of 16 centroids), its Vector API
    // calls looked cold to C2, were not inlined and ran boxed, ten times slower.
    int c = count >= 4 * LANES
        ? fourByFour(x, x0, x1, x2, x3, t, tOffset, dim, count, bias, biasOffset, out, o0)
        : 0;
    // Two registers by four points for the rest.
    for (int bound = count - 2 * LANES; c <= bound; c += 2 * LANES) {
      int h = c + LANES;
      FloatVector b0 = FloatVector.fromArray(F, bias, biasOffset + c);
      FloatVector b1 = FloatVector.fromArray(F, bias, biasOffset + h);
      FloatVector a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
      for (int j = 0, row = tOffset + c; j < dim; j++, row += count) {
        FloatVector t0 = FloatVector.fromArray(F, t, row);
        FloatVector t1 = FloatVector.fromArray(F, t, row + LANES);
        FloatVector v = FloatVector.broadcast(F, x[x0 + j]);
        a00 = t0.fma(v, a00);
        a01 = t1.fma(v, a01);
        v = FloatVector.broadcast(F, x[x1 + j]);
        a10 = t0.fma(v, a10);
        a11 = t1.fma(v, a11);
        v = FloatVector.broadcast(F, x[x2 + j]);
        a20 = t0.fma(v, a20);
        a21 = t1.fma(v, a21);
        v = FloatVector.broadcast(F, x[x3 + j]);
        a30 = t0.fma(v, a30);
        a31 = t1.fma(v, a31);
      }
      a00.intoArray(out, o0 + c);
      a01.intoArray(out, o0 + h);
      a10.intoArray(out, o1 + c);
      a11.intoArray(out, o1 + h);
      a20.intoArray(out, o2 + c);
      a21.intoArray(out, o2 + h);
      a30.intoArray(out, o3 + c);
      a31.intoArray(out, o3 + h);
    }
    // One register by four points: 4-bit PQ's 16 centroids, and the rest of larger counts.
    for (int bound = count - LANES; c <= bound; c += LANES) {
      FloatVector a0 = FloatVector.fromArray(F, bias, biasOffset + c);
      FloatVector a1 = a0, a2 = a0, a3 = a0;
      for (int j = 0, row = tOffset + c; j < dim; j++, row += count) {
        FloatVector tc = FloatVector.fromArray(F, t, row);
        a0 = tc.fma(FloatVector.broadcast(F, x[x0 + j]), a0);
        a1 = tc.fma(FloatVector.broadcast(F, x[x1 + j]), a1);
        a2 = tc.fma(FloatVector.broadcast(F, x[x2 + j]), a2);
        a3 = tc.fma(FloatVector.broadcast(F, x[x3 + j]), a3);
      }
      a0.intoArray(out, o0 + c);
      a1.intoArray(out, o1 + c);
      a2.intoArray(out, o2 + c);
      a3.intoArray(out, o3 + c);
    }
    for (; c < count; c++) {
      float s0 = bias[biasOffset + c], s1 = s0, s2 = s0, s3 = s0;
      for (int j = 0, row = tOffset + c; j < dim; j++, row += count) {
        float tc = t[row];
        s0 = Math.fma(x[x0 + j], tc, s0);
        s1 = Math.fma(x[x1 + j], tc, s1);
        s2 = Math.fma(x[x2 + j], tc, s2);
        s3 = Math.fma(x[x3 + j], tc, s3);
      }
      out[o0 + c] = s0;
      out[o1 + c] = s1;
      out[o2 + c] = s2;
      out[o3 + c] = s3;
    }
  }

  @Override
  public int argMin(float[] v, int offset, int length) {
    // Two passes over data already in L1: a lane-wise minimum, then the first lane equal to it.
    // Compare-and-blend, not min(): Java's min() must order -0.0 and NaN, which costs twice as much.
    float min = Float.POSITIVE_INFINITY;
    int i = 0;
    if (length >= LANES) {
      FloatVector acc = FloatVector.fromArray(F, v, offset);
      for (i = LANES; i <= length - LANES; i += LANES) {
        FloatVector x = FloatVector.fromArray(F, v, offset + i);
        acc = acc.blend(x, x.lt(acc));
      }
      min = acc.reduceLanes(VectorOperators.MIN);
    }
    for (; i < length; i++) {
      min = Math.min(min, v[offset + i]);
    }
    i = 0;
    for (int bound = length - LANES; i <= bound; i += LANES) {
      VectorMask<Float> eq = FloatVector.fromArray(F, v, offset + i).eq(min);
      if (eq.anyTrue()) {
        return i + eq.firstTrue();
      }
    }
    for (; i < length; i++) {
      if (v[offset + i] == min) {
        return i;
      }
    }
    return 0;
  }
}
