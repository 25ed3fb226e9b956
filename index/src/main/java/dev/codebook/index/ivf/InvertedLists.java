package dev.codebook.index.ivf;

import dev.codebook.index.fastscan.FastScanLayout;

/**
 * The inverted lists of an IVF index (FAISS's {@code InvertedLists}): per list, the ordinals of
 * its vectors and their codes, in blocks of {@value FastScanLayout#BLOCK} vectors laid out for
 * the fast-scan kernels ({@link dev.codebook.index.fastscan}). List {@code l}'s vector at
 * position {@code i} has ordinal {@code ids(l)[i]} and its code in block {@code i / 64} of
 * {@code codes(l)}. The arrays are the lists' own, read in place by the scanners, and may be
 * longer than the list; only the first {@link #listSize} ids and {@link #codeBytes}{@code
 * (listSize)} bytes count.
 *
 * <p>Reads may run concurrently with each other, not with writes to an implementation that
 * takes them ({@link HeapInvertedLists}).
 */
public interface InvertedLists {

  /** Number of lists. */
  int nlist();

  /** Vectors in list {@code list}. */
  int listSize(int list);

  /** The ordinals of list {@code list}, at least {@link #listSize} long. */
  int[] ids(int list);

  /** The code blocks of list {@code list}, at least {@link #codeBytes}{@code (listSize)} long. */
  byte[] codes(int list);

  /** Bytes of one block of 64 vectors' codes. */
  int blockBytes();

  /** Bytes of codes used by {@code n} vectors in one list: whole blocks. */
  default int codeBytes(int n) {
    return (n + FastScanLayout.BLOCK - 1) / FastScanLayout.BLOCK * blockBytes();
  }
}
