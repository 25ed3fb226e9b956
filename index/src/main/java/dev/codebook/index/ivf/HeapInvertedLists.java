package dev.codebook.index.ivf;

import dev.codebook.index.fastscan.FastScan8Layout;
import dev.codebook.index.fastscan.FastScanLayout;
import java.util.Arrays;

/**
 * Inverted lists on the Java heap, one growable {@code int[]} of ordinals and one {@code byte[]}
 * of code blocks per list: what a build appends to and what a saved index is read into. Codes are
 * 4-bit ({@link FastScanLayout}) or 8-bit ({@link FastScan8Layout}). Not thread-safe for writes.
 */
public final class HeapInvertedLists implements InvertedLists {

  private final int m;
  private final boolean fourBit;
  private final int blockBytes;
  private final int[][] ids;
  private final byte[][] codes;
  private final int[] sizes;

  /**
   * {@code nlist} empty lists of codes of {@code m} sub-quantizers, in the 4-bit fast-scan
   * layout ({@code fastScan}) or else the 8-bit one.
   */
  public HeapInvertedLists(int nlist, int m, boolean fastScan) {
    this.m = m;
    this.fourBit = fastScan;
    this.blockBytes = fourBit ? FastScanLayout.blockBytes(m) : FastScan8Layout.blockBytes(m);
    this.ids = new int[nlist][];
    this.codes = new byte[nlist][];
    this.sizes = new int[nlist];
    Arrays.fill(ids, new int[0]);
    Arrays.fill(codes, new byte[0]);
  }

  @Override
  public int nlist() {
    return sizes.length;
  }

  @Override
  public int listSize(int list) {
    return sizes[list];
  }

  @Override
  public int[] ids(int list) {
    return ids[list];
  }

  @Override
  public byte[] codes(int list) {
    return codes[list];
  }

  @Override
  public int blockBytes() {
    return blockBytes;
  }

  /** Ordinal at position {@code pos} of list {@code list}. */
  public int idAt(int list, int pos) {
    return ids[list][pos];
  }

  /** Code of sub-quantizer {@code sub} at position {@code pos} of list {@code list}. */
  public int codeAt(int list, int pos, int sub) {
    int block = pos / FastScanLayout.BLOCK * blockBytes;
    return fourBit
        ? FastScanLayout.get(codes[list], block, pos % FastScanLayout.BLOCK, sub)
        : FastScan8Layout.get(codes[list], block, pos % FastScan8Layout.BLOCK, sub);
  }

  /**
   * Appends ordinal {@code id} to list {@code list} with its code, {@code m} bytes (one per
   * sub-quantizer) at {@code code[codeOffset..]}; capacity grows by half, in whole blocks.
   */
  public void append(int list, int id, byte[] code, int codeOffset) {
    int pos = sizes[list];
    if (pos == ids[list].length) {
      int cap = Math.max(FastScanLayout.BLOCK, pos + (pos >> 1));
      cap = (cap + FastScanLayout.BLOCK - 1) / FastScanLayout.BLOCK * FastScanLayout.BLOCK;
      ids[list] = Arrays.copyOf(ids[list], cap);
      long codeCap = (long) cap / FastScanLayout.BLOCK * blockBytes;
      codes[list] = Arrays.copyOf(codes[list], Math.toIntExact(codeCap));
    }
    ids[list][pos] = id;
    int block = pos / FastScanLayout.BLOCK * blockBytes;
    int v = pos % FastScanLayout.BLOCK;
    for (int s = 0; s < m; s++) {
      if (fourBit) {
        FastScanLayout.set(codes[list], block, v, s, code[codeOffset + s]);
      } else {
        FastScan8Layout.set(codes[list], block, v, s, code[codeOffset + s] & 0xFF);
      }
    }
    sizes[list] = pos + 1;
  }

  /** Replaces every list (loading a saved index); the arrays are taken, not copied. */
  public void restore(int[][] listIds, byte[][] listCodes, int[] listSizes) {
    int nlist = nlist();
    if (listIds.length != nlist || listCodes.length != nlist || listSizes.length != nlist) {
      throw new IllegalArgumentException("expected " + nlist + " lists");
    }
    for (int l = 0; l < nlist; l++) {
      ids[l] = listIds[l];
      codes[l] = listCodes[l];
      sizes[l] = listSizes[l];
    }
  }
}
