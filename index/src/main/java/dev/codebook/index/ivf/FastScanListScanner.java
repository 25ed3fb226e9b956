package dev.codebook.index.ivf;

import dev.codebook.index.fastscan.FastScanLayout;
import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.simd.KernelSupport;

/**
 * The scanner of 4-bit codes ({@link FastScanLayout}): {@link KernelSupport#fastScan4} filters a
 * block with byte permutes, one per four sub-quantizers (FAISS's {@code PQ..x4fs}).
 */
final class FastScanListScanner extends ListScanner {

  private final int pairs;

  FastScanListScanner(ProductQuantizer pq, boolean innerProduct, InvertedLists lists,
      int candidates, boolean reranked) {
    super(pq, innerProduct, lists, candidates, reranked);
    this.pairs = FastScanLayout.pairs(m);
  }

  @Override
  long filterBlock(KernelSupport k, byte[] codes, int blockOff, byte[] tables, int threshold,
      short[] sums) {
    return k.fastScan4(codes, blockOff, pairs, tables, threshold, sums);
  }

  @Override
  float adcScore(byte[] codes, int at, float[] lut) {
    return FastScanLayout.adcScore(codes, at, lut, m);
  }
}
