package dev.codebook.index.fastscan;

/**
 * The 8-bit code layout: vectors in blocks of {@value #BLOCK}, each block one {@code byte[m *
 * 64]}: slab {@code s} (64 bytes, one 512-bit register) holds sub-quantizer {@code s}'s code of
 * all 64 vectors, so the kernel ({@code KernelSupport.fastScan8}) looks up one sub-quantizer for
 * a whole block with byte permutes.
 *
 * <p>Inside a slab, byte {@code 2j} belongs to vector {@code j} and byte {@code 2j+1} to vector
 * {@code 32+j}, as in {@link FastScanLayout}: read as 16-bit lanes, the low bytes are vectors
 * 0..31 and the high bytes 32..63, so the two halves of the result mask line up with vector
 * numbers without a shuffle.
 *
 * <p>Byte tables are {@code m x 256}, sub-quantizer {@code s}'s at {@code s * 256}: four 64-byte
 * registers, one permute each, the code's top two bits choosing among them.
 */
public final class FastScan8Layout {

  /** Vectors per block. */
  public static final int BLOCK = 64;

  private FastScan8Layout() {}

  /** Bytes of one block of 64 vectors. */
  public static int blockBytes(int m) {
    return m * BLOCK;
  }

  /** Bytes of the byte tables for {@code m} sub-quantizers. */
  public static int lutBytes(int m) {
    return m * 256;
  }

  /** Byte position of vector {@code v} (0..63) inside a 64-byte slab. */
  public static int position(int v) {
    return FastScanLayout.position(v);
  }

  /** Writes code {@code c} (0..255) of sub-quantizer {@code s} for vector {@code v} of a block. */
  public static void set(byte[] codes, int blockOffset, int v, int s, int c) {
    codes[blockOffset + s * BLOCK + position(v)] = (byte) c;
  }

  /** Reads the code of sub-quantizer {@code s} for vector {@code v} of a block. */
  public static int get(byte[] codes, int blockOffset, int v, int s) {
    return codes[blockOffset + s * BLOCK + position(v)] & 0xFF;
  }

  /**
   * The float ADC score of one vector of a block, its byte at {@code at} in slab 0; {@code lut}
   * is the float table {@code [m][256]}. Two accumulators, in the order the scan has always
   * summed them.
   */
  public static float adcScore(byte[] codes, int at, float[] lut, int m) {
    float s0 = 0, s1 = 0;
    int s = 0;
    for (int t = 0; s + 1 < m; s += 2, t += 512, at += 2 * BLOCK) {
      s0 += lut[t + (codes[at] & 0xFF)];
      s1 += lut[t + 256 + (codes[at + BLOCK] & 0xFF)];
    }
    if (s < m) {
      s0 += lut[s * 256 + (codes[at] & 0xFF)];
    }
    return s0 + s1;
  }

  /**
   * {@code n} codes stored contiguously ({@code m} bytes a vector, as IVF format versions before
   * 2 did) rearranged into blocks.
   */
  public static byte[] fromContiguous(byte[] contiguous, int n, int m) {
    int blocks = (n + BLOCK - 1) / BLOCK;
    byte[] out = new byte[Math.max(1, blocks * blockBytes(m))];
    for (int i = 0; i < n; i++) {
      int block = i / BLOCK * blockBytes(m);
      for (int s = 0; s < m; s++) {
        set(out, block, i % BLOCK, s, contiguous[i * m + s] & 0xFF);
      }
    }
    return out;
  }
}
