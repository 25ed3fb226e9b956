package dev.codebook.index.ivf;

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
}
