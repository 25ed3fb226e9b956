package dev.codebook.index.ivf;

import dev.codebook.index.fastscan.FastScanLayout;
import dev.codebook.index.fastscan.QuantizedLut;
import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.search.TopK;
import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.train.PqTrainer;
import dev.codebook.index.vector.FloatMatrix;

/**
 * Picks a query's best lists without scoring every centroid: the centroids are coded with 4-bit
 * fast-scan PQ ({@code d/8} sub-quantizers of 8 dimensions), one kernel pass gives every
 * centroid's byte sum, a binary search over vector counts finds the sum that the {@code
 * candidates} highest reach, and only those are scored exactly. At 4,096 centroids of 384
 * dimensions that is 64 blocks of the fast-scan kernel and 128 dot products instead of 4,096.
 *
 * <p>No heap and no float re-scoring between the kernel and the exact scores: candidates are
 * chosen by their sums alone (ties at the cut all taken), so a query costs the same whatever
 * order the sums come in.
 *
 * <p>The centroids' PQ is trained once, when the index is built ({@link #train}), and stored
 * with the coarse centroids (IVF format version 3, codebook file version 1); an index read from
 * an older file trains it on open, with the same seed, so it gets the same PQ. Immutable; the
 * buffers of a selection are the caller's ({@link Scratch}).
 */
final class CentroidPreselector {

  /** Seed of the centroids' PQ: the same centroids always get the same codes. */
  private static final long SEED = 0x5eedL;

  /** Bits per sub-quantizer of the centroids' PQ: the 4-bit fast-scan. */
  static final int NBITS = 4;

  private final FloatMatrix centroids;
  private final boolean innerProduct;
  private final ProductQuantizer pq;
  private final int n;
  private final int m;
  private final int pairs;
  private final int blockBytes;
  private final int blocks;
  private final byte[] codes;

  /**
   * The PQ of {@code centroids} a pre-selector codes them with: {@code d/8} sub-quantizers of 8
   * dimensions (fewer dimensions when 8 does not divide d), 4 bits, seeded, one thread, so the
   * same centroids always give the same PQ.
   */
  static ProductQuantizer train(FloatMatrix centroids) {
    int d = centroids.dim();
    int dsub = d % 8 == 0 ? 8 : d % 4 == 0 ? 4 : d % 2 == 0 ? 2 : 1;
    return PqTrainer.train(centroids, d / dsub, NBITS,
        PqTrainer.Params.defaults().withSeed(SEED).withThreads(1));
  }

  /** A pre-selector over {@code centroids} coded with {@code pq} (see {@link #train}). */
  CentroidPreselector(FloatMatrix centroids, boolean innerProduct, ProductQuantizer pq) {
    if (pq.dimension() != centroids.dim() || pq.nbits() != NBITS) {
      throw new IllegalArgumentException("pre-selector PQ" + pq.m() + "x" + pq.nbits() + " of "
          + "dimension " + pq.dimension() + " does not fit " + centroids.dim()
          + "-dimensional centroids");
    }
    this.centroids = centroids;
    this.innerProduct = innerProduct;
    this.n = centroids.rows();
    this.m = pq.m();
    this.pq = pq;
    this.pairs = FastScanLayout.pairs(m);
    this.blockBytes = FastScanLayout.blockBytes(m);
    this.blocks = (n + FastScanLayout.BLOCK - 1) / FastScanLayout.BLOCK;
    this.codes = new byte[blocks * blockBytes];
    byte[] flat = pq.encodeAll(centroids, 1);
    for (int i = 0; i < n; i++) {
      int b = i / FastScanLayout.BLOCK;
      for (int s = 0; s < m; s++) {
        FastScanLayout.set(codes, b * blockBytes, i % FastScanLayout.BLOCK, s, flat[i * m + s]);
      }
    }
  }

  /** The PQ the centroids are coded with, to store with them. */
  ProductQuantizer pq() {
    return pq;
  }

  /** Buffers for {@link #select}, one set per searching thread (a search context holds them). */
  Scratch newScratch() {
    return new Scratch(blocks);
  }

  /**
   * Fills {@code heap} (cleared first) with the best {@code heap.k()} lists among the {@code
   * candidates} (at least {@code heap.k()}) whose PQ sums are highest, scored exactly: the dot
   * product for inner product, the negated squared distance for L2. {@code s} is the caller's,
   * from {@link #newScratch}.
   */
  void select(float[] q, int qOff, int candidates, TopK heap, Scratch s) {
    KernelSupport k = VectorKernels.support();
    pq.computeScoreTable(q, qOff, s.lut, innerProduct);
    s.qlut.quantize(s.lut);
    byte[] tables = s.qlut.tables();
    short[][] sums = s.sums;
    int blocks = sums.length;
    for (int b = 0, off = 0; b < blocks; b++, off += blockBytes) {
      short[] block = sums[b];
      k.fastScan4(codes, off, pairs, tables, 0, block);
      for (int v = n - b * FastScanLayout.BLOCK; v < FastScanLayout.BLOCK; v++) {
        block[v] = -1; // past the last centroid: below every cut
      }
    }
    // The cut: the highest sum that at least `candidates` centroids reach, found by a binary
    // search whose counts are a vector compare per 32 sums (no heap, no scalar pass a sum).
    int want = Math.min(n, candidates);
    int lo = 0, hi = Short.MAX_VALUE;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (countAtLeast(k, sums, mid, want) >= want) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    int[] ids = s.ids;
    int count = 0;
    for (int b = 0; b < blocks; b++) {
      for (long mask = k.atLeast(sums[b], lo); mask != 0; mask &= mask - 1) {
        ids[count++] = b * FastScanLayout.BLOCK + Long.numberOfTrailingZeros(mask);
      }
    }
    int d = centroids.dim();
    float[] c = centroids.data();
    // Every cache line of the chosen centroids first, so their misses overlap rather than stall
    // one dot product at a time (4,096 x 384 floats is 6 MB).
    if (HeapRawVectors.touch(c, d, ids, count) == Float.MIN_VALUE) {
      sink++; // keeps the loads; practically never taken
    }
    heap.clear();
    for (int i = 0; i < count; i++) {
      int list = ids[i];
      float score = innerProduct
          ? k.dotProduct(q, qOff, c, list * d, d)
          : -k.squareDistance(q, qOff, c, list * d, d);
      heap.offer(list, score);
    }
  }

  /** How many sums reach {@code threshold}, counting no further than {@code enough}. */
  private static int countAtLeast(KernelSupport k, short[][] sums, int threshold, int enough) {
    int count = 0;
    for (int b = 0; b < sums.length && count < enough; b++) {
      count += Long.bitCount(k.atLeast(sums[b], threshold));
    }
    return count;
  }

  /** Where the touched centroids' sum goes; never read. */
  private int sink;

  /** One selection's buffers: its tables, every block's sums, the candidates. */
  final class Scratch {
    final float[] lut = new float[m * 16];
    final QuantizedLut qlut = new QuantizedLut(m, 16);
    /** Each block's 64 sums, as the kernel leaves them. */
    final short[][] sums;
    final int[] ids;

    Scratch(int blocks) {
      sums = new short[blocks][FastScanLayout.BLOCK];
      ids = new int[blocks * FastScanLayout.BLOCK];
    }
  }
}
