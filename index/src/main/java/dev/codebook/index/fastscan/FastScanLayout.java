package dev.codebook.index.fastscan;

/**
 * The 4-bit fast-scan code layout: vectors in blocks of {@value #BLOCK}, each block one {@code
 * byte[pairs * 64]} slab where {@code pairs = ceil(m / 2)}.
 *
 * <p>Slab {@code p} (64 bytes, one 512-bit register) holds sub-quantizers {@code 2p} (low nibble)
 * and {@code 2p+1} (high nibble) of all 64 vectors. Inside it, byte {@code 2j} belongs to vector
 * {@code j} and byte {@code 2j+1} to vector {@code 32+j}: read as 32 16-bit lanes, the low bytes
 * are vectors 0..31 and the high bytes vectors 32..63, so the kernel sums looked-up registers as
 * whole 16-bit lanes plus their high bytes (one shift), recovers the low sums with one subtraction
 * at the end, and the two halves of the result mask line up with vector numbers without a shuffle.
 *
 * <p>Lookup tables are grouped by four sub-quantizers: group {@code g} is 64 bytes, entry {@code
 * (j, c)} at {@code g*64 + j*16 + c} for sub-quantizer {@code 4g+j} and code {@code c}, so one
 * 64-byte permute ({@code vpermb}) serves four sub-quantizers.
 */
public final class FastScanLayout {

  /** Vectors per block: one 64-byte register of codes per pair of sub-quantizers. */
  public static final int BLOCK = 64;

  private FastScanLayout() {}

  public static int pairs(int m) {
    return (m + 1) >>> 1;
  }

  /** Bytes of one block of 64 vectors. */
  public static int blockBytes(int m) {
    return pairs(m) * BLOCK;
  }

  /** Bytes of the grouped lookup tables for {@code m} sub-quantizers (groups of four). */
  public static int lutBytes(int m) {
    return ((m + 3) >>> 2) * 64;
  }

  /** Byte position of vector {@code v} (0..63) inside a 64-byte slab. */
  public static int position(int v) {
    return v < 32 ? 2 * v : 2 * (v - 32) + 1;
  }

  /** Writes code {@code c} (0..15) of sub-quantizer {@code s} for vector {@code v} of a block. */
  public static void set(byte[] codes, int blockOffset, int v, int s, int c) {
    int i = blockOffset + (s >>> 1) * BLOCK + position(v);
    if ((s & 1) == 0) {
      codes[i] = (byte) ((codes[i] & 0xF0) | c);
    } else {
      codes[i] = (byte) ((codes[i] & 0x0F) | (c << 4));
    }
  }

  /** Reads the code of sub-quantizer {@code s} for vector {@code v} of a block. */
  public static int get(byte[] codes, int blockOffset, int v, int s) {
    int b = codes[blockOffset + (s >>> 1) * BLOCK + position(v)];
    return (s & 1) == 0 ? b & 0x0F : (b >>> 4) & 0x0F;
  }

  /**
   * The float ADC score of one vector of a block, its byte at {@code at} in the first slab: one
   * byte per pair of sub-quantizers, {@value #BLOCK} bytes apart; {@code lut} is the float table
   * {@code [m][16]}. Two accumulators, in the order the scan has always summed them.
   */
  public static float adcScore(byte[] codes, int at, float[] lut, int m) {
    float s0 = 0, s1 = 0;
    int full = m >>> 1;
    for (int p = 0, t = 0; p < full; p++, t += 32, at += BLOCK) {
      int b = codes[at];
      s0 += lut[t + (b & 0x0F)];
      s1 += lut[t + 16 + ((b >>> 4) & 0x0F)];
    }
    if ((m & 1) != 0) {
      s0 += lut[full * 32 + (codes[at] & 0x0F)];
    }
    return s0 + s1;
  }
}
