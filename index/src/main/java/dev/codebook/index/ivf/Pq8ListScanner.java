package dev.codebook.index.ivf;

import dev.codebook.index.fastscan.FastScan8Layout;
import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.simd.KernelSupport;

/**
 * The scanner of 8-bit codes ({@link FastScan8Layout}): {@link KernelSupport#fastScan8} filters
 * a block with four byte permutes per sub-quantizer, survivors re-scored with the float table as
 * FAISS's {@code IndexIVFPQ} scores every code.
 */
final class Pq8ListScanner extends ListScanner {

  Pq8ListScanner(ProductQuantizer pq, boolean innerProduct, InvertedLists lists, int candidates,
      boolean reranked) {
    super(pq, innerProduct, lists, candidates, reranked);
  }

  @Override
  long filterBlock(KernelSupport k, byte[] codes, int blockOff, byte[] tables, int threshold,
      short[] sums) {
    return k.fastScan8(codes, blockOff, m, tables, threshold, sums);
  }

  @Override
  float adcScore(byte[] codes, int at, float[] lut) {
    return FastScan8Layout.adcScore(codes, at, lut, m);
  }
}
