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
import static dev.codebook.index.simd.panama.PanamaKernelSupport.*;

/**
 * The Vector API kernels over codes and tables (fast-scan block scans, table minima and byte
 * quantization), the half of {@link PanamaKernelSupport} that works on bytes and shorts. Static,
 * stateless; {@link PanamaKernelSupport} delegates to them.
 */
final class PanamaCodeKernels {

  private PanamaCodeKernels() {}

  static long fastScan4(byte[] codes, int blockOffset, int pairs, byte[] tables, int threshold,
      short[] sums) {
    if (!WIDE) {
      return ScalarKernelSupport.INSTANCE.fastScan4(
          codes, blockOffset, pairs, tables, threshold, sums);
    }
    if (threshold > Short.MAX_VALUE) {
      return 0L; // sums fit in 16 bits, so none reaches it; the kernels compare in 16 bits
    }
    threshold = Math.max(0, threshold); // sums are non-negative: at or below 0 all pass
    // Two kernels rather than one with a tail: each stays under FreqInlineSize, and neither takes
    // or returns a vector, which would be boxed whenever C2 declined to inline it.
    return (pairs & 1) == 0
        ? fastScanPairs(codes, blockOffset, pairs, tables, threshold, sums)
        : fastScanOddPairs(codes, blockOffset, pairs, tables, threshold, sums);
  }

  // Fast-scan accumulates as FAISS does: each looked-up register, read as 16-bit lanes, holds the
  // byte of vector j (low) and of vector 32+j (high). Summing whole lanes (mod 2^16) into `all`
  // and the high bytes alone into `high` costs a shift and two adds per lookup, where masking
  // both halves costs four ops; at the end, low = all - (high << 8) is exact, as every sum fits
  // in 16 bits (QuantizedLut keeps m * maxEntry <= 32767).

  /** An even number of slabs, two per iteration: one table register serves both. */
  private static long fastScanPairs(
      byte[] codes, int blockOffset, int pairs, byte[] tables, int threshold, short[] sums) {
    ShortVector all = ShortVector.zero(S512);
    ShortVector high = ShortVector.zero(S512);
    for (int p = 0, off = blockOffset; p < pairs; p += 2, off += 128) {
      ByteVector table = ByteVector.fromArray(B512, tables, p * 32);
      ByteVector x = ByteVector.fromArray(B512, codes, off);
      ByteVector y = ByteVector.fromArray(B512, codes, off + 64);
      // Entry (j, c) of the group at j * 16 + c: sub-quantizers 2p, 2p+1 (x) and 2p+2, 2p+3 (y).
      // High nibbles by a 16-bit shift: x86 has no byte shift, and ByteVector's LSHR emulates one.
      ShortVector a = x.and((byte) 0x0F).selectFrom(table).reinterpretAsShorts();
      ShortVector b = x.reinterpretAsShorts().lanewise(VectorOperators.LSHR, (short) 4)
          .reinterpretAsBytes().and((byte) 0x0F).or((byte) 16).selectFrom(table)
          .reinterpretAsShorts();
      ShortVector c = y.and((byte) 0x0F).or((byte) 32).selectFrom(table).reinterpretAsShorts();
      ShortVector d = y.reinterpretAsShorts().lanewise(VectorOperators.LSHR, (short) 4)
          .reinterpretAsBytes().and((byte) 0x0F).or((byte) 48).selectFrom(table)
          .reinterpretAsShorts();
      all = all.add(a.add(b)).add(c.add(d));
      high = high.add(a.lanewise(VectorOperators.LSHR, (short) 8)
              .add(b.lanewise(VectorOperators.LSHR, (short) 8)))
          .add(c.lanewise(VectorOperators.LSHR, (short) 8)
              .add(d.lanewise(VectorOperators.LSHR, (short) 8)));
    }
    ShortVector low = all.sub(high.lanewise(VectorOperators.LSHL, (short) 8));
    low.intoArray(sums, 0);
    high.intoArray(sums, 32);
    short t = (short) threshold;
    // A mask of 32 lanes converts to bits 0..31 only.
    return low.compare(VectorOperators.GE, t).toLong()
        | high.compare(VectorOperators.GE, t).toLong() << 32;
  }

  /** An odd number of slabs (m = 4k+1 or 4k+2), one per iteration. */
  private static long fastScanOddPairs(
      byte[] codes, int blockOffset, int pairs, byte[] tables, int threshold, short[] sums) {
    ShortVector all = ShortVector.zero(S512);
    ShortVector high = ShortVector.zero(S512);
    for (int p = 0; p < pairs; p++) {
      // Slab p uses entries 32 * (p & 1) .. +31 of group p / 2. Reloaded for every slab: a
      // vector carried across iterations from an initial null is boxed (2.7x slower, measured).
      ByteVector table = ByteVector.fromArray(B512, tables, (p >>> 1) * 64);
      ByteVector x = ByteVector.fromArray(B512, codes, blockOffset + p * 64);
      byte base = (byte) ((p & 1) * 32);
      ShortVector a = x.and((byte) 0x0F).or(base).selectFrom(table).reinterpretAsShorts();
      ShortVector b = x.reinterpretAsShorts().lanewise(VectorOperators.LSHR, (short) 4)
          .reinterpretAsBytes().and((byte) 0x0F).or((byte) (base + 16)).selectFrom(table)
          .reinterpretAsShorts();
      all = all.add(a.add(b));
      high = high.add(a.lanewise(VectorOperators.LSHR, (short) 8)
          .add(b.lanewise(VectorOperators.LSHR, (short) 8)));
    }
    ShortVector low = all.sub(high.lanewise(VectorOperators.LSHL, (short) 8));
    low.intoArray(sums, 0);
    high.intoArray(sums, 32);
    short t = (short) threshold;
    // A mask of 32 lanes converts to bits 0..31 only.
    return low.compare(VectorOperators.GE, t).toLong()
        | high.compare(VectorOperators.GE, t).toLong() << 32;
  }

  static long fastScan8(byte[] codes, int blockOffset, int m, byte[] tables, int threshold,
      short[] sums) {
    if (!WIDE) {
      return ScalarKernelSupport.INSTANCE.fastScan8(codes, blockOffset, m, tables, threshold, sums);
    }
    if (threshold > Short.MAX_VALUE) {
      return 0L;
    }
    return fastScan8Block(codes, blockOffset, m, tables, Math.max(0, threshold), sums);
  }

  /**
   * A 256-entry table is four 64-byte registers: the code's low six bits index all four with one
   * permute each, and its bits 6 and 7 pick the right one with two blends. The two-table permute
   * (vpermi2b, {@code selectFrom(v1, v2)}) would halve the permutes but needs JDK 24.
   */
  private static long fastScan8Block(
      byte[] codes, int blockOffset, int m, byte[] tables, int threshold, short[] sums) {
    ShortVector all = ShortVector.zero(S512);
    ShortVector high = ShortVector.zero(S512);
    for (int s = 0, off = blockOffset, t = 0; s < m; s++, off += 64, t += 256) {
      ByteVector x = ByteVector.fromArray(B512, codes, off);
      ByteVector i = x.and((byte) 0x3F);
      VectorMask<Byte> bit6 = x.and((byte) 0x40).compare(VectorOperators.NE, (byte) 0);
      ByteVector lo = i.selectFrom(ByteVector.fromArray(B512, tables, t))
          .blend(i.selectFrom(ByteVector.fromArray(B512, tables, t + 64)), bit6);
      ByteVector hi = i.selectFrom(ByteVector.fromArray(B512, tables, t + 128))
          .blend(i.selectFrom(ByteVector.fromArray(B512, tables, t + 192)), bit6);
      ShortVector v = lo.blend(hi, x.compare(VectorOperators.LT, (byte) 0)).reinterpretAsShorts();
      all = all.add(v);
      high = high.add(v.lanewise(VectorOperators.LSHR, (short) 8));
    }
    ShortVector low = all.sub(high.lanewise(VectorOperators.LSHL, (short) 8));
    low.intoArray(sums, 0);
    high.intoArray(sums, 32);
    short t = (short) threshold;
    return low.compare(VectorOperators.GE, t).toLong()
        | high.compare(VectorOperators.GE, t).toLong() << 32;
  }

  // The table kernels below take all of a query's tables in one call (48 of them at 4-bit m=48);
  // tableMinima and quantizeTables hold ksub/16 registers a table (one at 4 bits, 16 at 8).

  static float tableMinima(float[] lut, int m, int ksub, float[] mins) {
    if (ksub % LANES != 0) {
      return ScalarKernelSupport.INSTANCE.tableMinima(lut, m, ksub, mins);
    }
    float span = 0;
    for (int s = 0, at = 0; s < m; s++, at += ksub) {
      FloatVector lo = FloatVector.fromArray(F, lut, at), hi = lo;
      for (int i = LANES; i < ksub; i += LANES) {
        FloatVector v = FloatVector.fromArray(F, lut, at + i);
        lo = lo.min(v);
        hi = hi.max(v);
      }
      float min = fromOrderKey(orderKeys(lo).reduceLanes(VectorOperators.MIN));
      mins[s] = min;
      span = Math.max(span, fromOrderKey(orderKeys(hi).reduceLanes(VectorOperators.MAX)) - min);
    }
    return span;
  }

  /**
   * A float's bits with the magnitude bits flipped when negative: integers that order as the
   * floats do, so a lane reduction over them is a few plain integer min/max steps where a float
   * one must also honour Java's NaN and -0.0 rules (tables hold neither NaN nor a meaningful
   * sign of zero).
   */
  private static IntVector orderKeys(FloatVector v) {
    IntVector bits = v.reinterpretAsInts();
    return bits.lanewise(VectorOperators.XOR,
        bits.lanewise(VectorOperators.ASHR, 31).and(0x7FFFFFFF));
  }

  private static float fromOrderKey(int key) {
    return Float.intBitsToFloat(key ^ ((key >> 31) & 0x7FFFFFFF));
  }

  static void quantizeTables(float[] lut, int m, int ksub, float[] mins, float scale,
      int maxValue, byte[] out) {
    if (ksub % LANES != 0) {
      ScalarKernelSupport.INSTANCE.quantizeTables(lut, m, ksub, mins, scale, maxValue, out);
      return;
    }
    for (int s = 0, at = 0; s < m; s++) {
      float base = mins[s];
      for (int end = at + ksub; at < end; at += LANES) {
        IntVector q = FloatVector.fromArray(F, lut, at).sub(base).mul(scale).add(0.5f)
            .convert(VectorOperators.F2I, 0).reinterpretAsInts().min(maxValue);
        q.convertShape(VectorOperators.I2B, BYTES_OF_F, 0).reinterpretAsBytes()
            .intoArray(out, at);
      }
    }
  }

  static void quantizeBytes(float[] v, int offset, int length, float base, float scale,
      int maxValue, byte[] out, int outOffset) {
    int i = 0;
    for (int bound = length - LANES; i <= bound; i += LANES) {
      IntVector q = FloatVector.fromArray(F, v, offset + i).sub(base).mul(scale).add(0.5f)
          .convert(VectorOperators.F2I, 0).reinterpretAsInts().min(maxValue);
      q.convertShape(VectorOperators.I2B, BYTES_OF_F, 0).reinterpretAsBytes()
          .intoArray(out, outOffset + i);
    }
    if (i < length) {
      ScalarKernelSupport.INSTANCE.quantizeBytes(
          v, offset + i, length - i, base, scale, maxValue, out, outOffset + i);
    }
  }
}
