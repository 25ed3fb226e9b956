package dev.codebook.index.ivf;

import dev.codebook.index.fastscan.FastScanLayout;
import dev.codebook.index.fastscan.QuantizedLut;
import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.search.AcceptOrds;
import dev.codebook.index.search.KthLargest;
import dev.codebook.index.search.TopK;
import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import java.util.Arrays;

/**
 * One query's scan of inverted lists (FAISS's {@code InvertedListScanner}): {@link #setQuery}
 * builds the query's ADC table and its byte form, then each probed list is scanned into the
 * query's top-k under an accept filter. Subclasses are the code families: {@link
 * FastScanListScanner} (4-bit codes) and {@link Pq8ListScanner} (8-bit codes) supply the block
 * kernel and the float score of one code; the loops are shared.
 *
 * <p>Two ways to scan a list. With one table for every list (inner product, or codes without a
 * residual), {@link #scanListDeferred}: each survivor's byte sum bounds its score from both sides
 * ({@link QuantizedLut#lowerBound}), the k-th largest lower bound ({@link KthLargest}) sets the
 * bar, and survivors whose upper bound clears it are kept as candidates, re-scored once every
 * list is scanned ({@link #rescoreCandidates}): most of the vectors that enter a top-k during a
 * scan leave it again and never get a float score. With a table per list (L2 over residuals,
 * {@link #setListQuery}), {@link #scanList} re-scores survivors right away, while the table is
 * current.
 *
 * <p>Either way the results are exactly those of float ADC over the same codes. Query-scoped
 * and single-threaded: a search holds one per query in flight, in its context's scratch.
 */
abstract class ListScanner {

  final int m;
  final int ksub;
  private final ProductQuantizer pq;
  private final boolean innerProduct;
  private final InvertedLists lists;
  /** With RFlat: candidates are only chosen here, by their upper bounds; re-ranking scores them. */
  private final boolean reranked;

  /** The float table and its byte form. */
  final float[] lut;
  final QuantizedLut qlut;
  /** Lower bounds of the deferred scan's survivors: the k-th is the bar candidates must clear. */
  final KthLargest bounds;
  final TopK heap;
  /** Deferred candidates: id, list, code position, upper bound and list bias. */
  int[] ids = new int[64];
  int[] candidateLists = new int[64];
  int[] ats = new int[64];
  float[] upper = new float[64];
  float[] biases = new float[64];
  int count;

  /**
   * @param candidates the size of the top-k the scan keeps ({@code k}, or {@code k * rerank})
   * @param reranked whether the candidates are re-ranked afterwards (RFlat)
   */
  ListScanner(ProductQuantizer pq, boolean innerProduct, InvertedLists lists, int candidates,
      boolean reranked) {
    this.pq = pq;
    this.m = pq.m();
    this.ksub = pq.ksub();
    this.innerProduct = innerProduct;
    this.lists = lists;
    this.reranked = reranked;
    this.lut = new float[m * ksub];
    this.qlut = new QuantizedLut(m, ksub);
    this.bounds = new KthLargest(candidates);
    this.heap = new TopK(candidates);
  }

  /**
   * Filters one block: the mask of the vectors whose byte sums reach {@code threshold}, their
   * sums left in {@code sums}.
   */
  abstract long filterBlock(KernelSupport k, byte[] codes, int blockOff, byte[] tables,
      int threshold, short[] sums);

  /** The float ADC score of one code, its byte at {@code at} in its block's first slab. */
  abstract float adcScore(byte[] codes, int at, float[] lut);

  /** Ready for a query with one table for every list: built, quantized, bounds emptied. */
  void setQuery(float[] q, int qOff) {
    heap.clear();
    pq.computeScoreTable(q, qOff, lut, innerProduct);
    qlut.quantize(lut);
    bounds.clear();
    count = 0;
  }

  /** Ready for a query with a table per list ({@link #setListQuery} before each list). */
  void startPerListQuery() {
    heap.clear();
  }

  /** The table of the next list: {@code r} is the query's residual against its centroid. */
  void setListQuery(float[] r, int rOff) {
    pq.computeScoreTable(r, rOff, lut, innerProduct);
    qlut.quantize(lut);
  }


  /**
   * Scans list {@code list} with its own table: the byte-table kernel filters each block, and
   * survivors are re-scored with the float table right away. {@code bias} is what the list adds
   * to its vectors' table scores.
   */
  void scanList(int list, float bias, AcceptOrds accept, short[] sums) {
    KernelSupport k = VectorKernels.support();
    int n = lists.listSize(list);
    byte[] codes = lists.codes(list);
    int[] listIds = lists.ids(list);
    int blockBytes = lists.blockBytes();
    float[] lut = this.lut;
    TopK heap = this.heap;
    byte[] tables = qlut.tables();
    int threshold = qlut.threshold(heap.threshold(), bias);
    for (int b = 0, blockOff = 0; b < n; b += FastScanLayout.BLOCK, blockOff += blockBytes) {
      long mask = filterBlock(k, codes, blockOff, tables, threshold, sums);
      int valid = n - b;
      if (valid < FastScanLayout.BLOCK) {
        mask &= (1L << valid) - 1;
      }
      while (mask != 0) {
        int v = Long.numberOfTrailingZeros(mask);
        mask &= mask - 1;
        if (accept != null && !accept.accept(listIds[b + v])) {
          continue;
        }
        int at = blockOff + FastScanLayout.position(v);
        float score = bias + adcScore(codes, at, lut);
        if (heap.offer(listIds[b + v], score)) {
          threshold = qlut.threshold(heap.threshold(), bias);
        }
      }
    }
  }

  /**
   * Scans list {@code list} under the query's one table, deferring float scores to {@link
   * #rescoreCandidates} (see the class doc).
   */
  void scanListDeferred(int list, float bias, AcceptOrds accept, short[] sums) {
    KernelSupport k = VectorKernels.support();
    int n = lists.listSize(list);
    byte[] codes = lists.codes(list);
    int[] listIds = lists.ids(list);
    int blockBytes = lists.blockBytes();
    KthLargest bounds = this.bounds;
    QuantizedLut ql = qlut;
    byte[] tables = ql.tables();
    float bar = bounds.bar();
    int threshold = ql.threshold(bar, bias);
    for (int b = 0, blockOff = 0; b < n; b += FastScanLayout.BLOCK, blockOff += blockBytes) {
      long mask = filterBlock(k, codes, blockOff, tables, threshold, sums);
      int valid = n - b;
      if (valid < FastScanLayout.BLOCK) {
        mask &= (1L << valid) - 1;
      }
      // Sums at or above this are in the bounds already.
      int counted = Integer.MAX_VALUE;
      if (!bounds.isFull() && accept == null && Long.bitCount(mask) >= bounds.k()) {
        // A query's first block passes whole (there is no bar yet): seed the bounds with its k
        // best sums and re-filter against the bar they set, rather than take all 64 one by one.
        counted = seedBounds(k, sums, mask, bias, bounds, ql);
        bar = bounds.bar();
        threshold = ql.threshold(bar, bias);
        mask &= k.atLeast(sums, threshold);
      }
      while (mask != 0) {
        int v = Long.numberOfTrailingZeros(mask);
        mask &= mask - 1;
        int id = listIds[b + v];
        if (accept != null && !accept.accept(id)) {
          continue;
        }
        int sum = sums[v];
        float up = ql.upperBound(sum, bias);
        if (up < bar) {
          continue; // the bar rose since the kernel filtered this block
        }
        if (sum < counted && bounds.add(ql.lowerBound(sum, bias))) {
          bar = bounds.bar();
          threshold = ql.threshold(bar, bias);
        }
        addCandidate(id, list, blockOff + FastScanLayout.position(v), up, bias);
      }
    }
  }

  /**
   * Adds to {@code bounds} the lower bounds of the vectors of {@code mask} (at least {@code
   * bounds.k()} of them) whose sums are at least the k-th largest of their sums, found by a
   * binary search over sums counted a vector compare at a time; returns that k-th largest sum.
   * The bar is then what adding every vector of the mask would have made it.
   */
  private static int seedBounds(KernelSupport k, short[] sums, long mask, float bias,
      KthLargest bounds, QuantizedLut ql) {
    int want = bounds.k();
    int lo = 0, hi = Short.MAX_VALUE; // sums are non-negative 15-bit values
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (Long.bitCount(k.atLeast(sums, mid) & mask) >= want) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    for (long top = k.atLeast(sums, lo) & mask; top != 0; top &= top - 1) {
      bounds.add(ql.lowerBound(sums[Long.numberOfTrailingZeros(top)], bias));
    }
    return lo;
  }

  /**
   * The candidates whose upper bound clears the final bar, into the heap: with their float ADC
   * scores, or with RFlat (which re-scores them exactly) their upper bounds.
   */
  void rescoreCandidates() {
    float bar = bounds.exactBar();
    if (reranked) {
      // Re-ranked: the candidates only need choosing, and their byte sums (as upper bounds, bias
      // included) choose them almost as well as float scores, for less work.
      for (int i = 0; i < count; i++) {
        if (upper[i] >= bar) {
          heap.offer(ids[i], upper[i]);
        }
      }
      return;
    }
    float[] lut = this.lut;
    for (int i = 0; i < count; i++) {
      if (upper[i] >= bar) {
        byte[] codes = lists.codes(candidateLists[i]);
        heap.offer(ids[i], biases[i] + adcScore(codes, ats[i], lut));
      }
    }
  }

  private void addCandidate(int id, int list, int at, float up, float bias) {
    if (count == ids.length) {
      compactCandidates();
    }
    ids[count] = id;
    candidateLists[count] = list;
    ats[count] = at;
    upper[count] = up;
    biases[count] = bias;
    count++;
  }

  /** Drops candidates below the bar, which only rises; grows the arrays if that frees little. */
  private void compactCandidates() {
    float bar = bounds.bar();
    int kept = 0;
    for (int i = 0; i < count; i++) {
      if (upper[i] >= bar) {
        ids[kept] = ids[i];
        candidateLists[kept] = candidateLists[i];
        ats[kept] = ats[i];
        upper[kept] = upper[i];
        biases[kept] = biases[i];
        kept++;
      }
    }
    count = kept;
    if (kept > ids.length / 2) {
      int cap = ids.length * 2;
      ids = Arrays.copyOf(ids, cap);
      candidateLists = Arrays.copyOf(candidateLists, cap);
      ats = Arrays.copyOf(ats, cap);
      upper = Arrays.copyOf(upper, cap);
      biases = Arrays.copyOf(biases, cap);
    }
  }
}
