package dev.codebook.index.ivf;

import dev.codebook.index.SearchParams;
import dev.codebook.index.flat.FlatIndex;
import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.search.BatchSearch;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.search.TopK;
import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import dev.codebook.index.vector.VectorUtil;

/**
 * The coarse quantizer of an IVF index: {@code nlist} centroids, each the head of one inverted
 * list. Vectors go to the list of their best centroid under the index's similarity (largest dot
 * product for inner product and cosine, smallest distance for L2), and a query probes its
 * {@code nprobe} best lists. Immutable.
 *
 * <p>Scoring every centroid costs {@code nlist * d} multiply-adds a query: at 4096 lists of 384
 * dimensions, more than the scan of the lists themselves at small nprobe. From {@value
 * #FAST_PROBE_MIN_NLIST} lists a probe therefore pre-selects ({@link CentroidPreselector}): the
 * centroids are coded with 4-bit fast-scan PQ, the candidates with the highest PQ scores
 * ({@value #FAST_PROBE_OVERSAMPLE} x nprobe, at least the calibrated floor) are scored exactly,
 * and the best nprobe of those are probed with their exact scores. A true top-nprobe list is
 * missed only when PQ ranks it below all those candidates, which on some embeddings happens
 * often: the build {@linkplain PreselectorCalibration calibrates} the floor and the largest
 * nprobe that pre-selects on its own training rows, or turns pre-selection off.
 *
 * <p>Whether a probe pre-selects depends on nprobe and the index alone, and the exact pass scores a
 * query the same to the last bit whether it comes alone or in any position of a batch: a
 * query's lists, and so its answer, never depend on what else is in its batch (a server merges
 * unrelated calls into one batch).
 */
public final class CoarseQuantizer {

  private final FloatMatrix centroids;
  private final boolean innerProduct;
  /**
   * The centroids transposed for {@link #probeBatch}, in blocks of {@value #BLOCK} lists (block
   * {@code b} is {@code [dim][len]} at {@code b * BLOCK * dim}), so a block stays in L2 while every
   * query of a batch is scored against it: as they are for inner
   * product, doubled for L2, where {@code bias = -|c|^2} completes {@code 2 q.c - |c|^2}.
   */
  private final float[] transposed;
  private final float[] bias;
  /** Zeros, the four-query kernel's bias: L2's {@link #bias} is added after it, as for one. */
  private final float[] zeros;
  /**
   * PQ fast-scan of the centroids for the pre-selecting probe, or null below the size. Its PQ is
   * trained with the index ({@link #build}) and stored with the centroids.
   */
  private final CentroidPreselector preselector;
  private final PreselectorCalibration calibration;

  /**
   * Lists per block of {@link #transposed}: one panel of four 512-bit registers, so the kernel
   * reads each block front to back ({@code [dim][64]} contiguous, 96 KB at d = 384, in L2 while a
   * batch's queries are scored against it) and the hardware prefetcher streams it. Blocks of 256
   * read 256-byte pieces 1 KB apart instead, which at 4096 lists ran at half the speed
   * (CoarseProbeBenchmark: 0.015 against 0.028 queries per microsecond).
   */
  static final int BLOCK = 64;

  /** Lists from which {@link #probeBatch} pre-selects with a fast-scan of the centroids. */
  public static final int FAST_PROBE_MIN_NLIST = 1024;

  /** Candidate lists pre-selected per probed list, re-scored exactly. */
  public static final int FAST_PROBE_OVERSAMPLE = 8;

  /**
   * A coarse quantizer over trained centroids whose pre-selector is trained here, as a build
   * does (and as opening a file written before the pre-selector was stored does): from {@value
   * #FAST_PROBE_MIN_NLIST} lists, the centroids' PQ ({@link CentroidPreselector#train}).
   */
  public static CoarseQuantizer build(FloatMatrix centroids, boolean innerProduct) {
    return build(centroids, innerProduct, PreselectorCalibration.UNCALIBRATED);
  }

  /** As {@link #build(FloatMatrix, boolean)}, with a given calibration of the pre-selector. */
  public static CoarseQuantizer build(FloatMatrix centroids, boolean innerProduct,
      PreselectorCalibration calibration) {
    return new CoarseQuantizer(centroids, innerProduct,
        centroids.rows() >= FAST_PROBE_MIN_NLIST ? CentroidPreselector.train(centroids) : null,
        calibration);
  }

  /**
   * As {@link #build(FloatMatrix, boolean)}, with the pre-selector {@linkplain
   * PreselectorCalibration#calibrate calibrated} on {@code sample}, rows in the space the
   * centroids were trained in (what an index build does).
   */
  public static CoarseQuantizer build(FloatMatrix centroids, boolean innerProduct,
      FloatMatrix sample) {
    CoarseQuantizer uncalibrated = build(centroids, innerProduct);
    return uncalibrated.preselector == null ? uncalibrated
        : new CoarseQuantizer(uncalibrated, PreselectorCalibration.calibrate(uncalibrated, sample));
  }

  /** {@code other} with another calibration: its immutable arrays and pre-selector shared. */
  private CoarseQuantizer(CoarseQuantizer other, PreselectorCalibration calibration) {
    this.centroids = other.centroids;
    this.innerProduct = other.innerProduct;
    this.transposed = other.transposed;
    this.bias = other.bias;
    this.zeros = other.zeros;
    this.preselector = other.preselector;
    this.calibration = java.util.Objects.requireNonNull(calibration, "calibration");
  }

  /**
   * A coarse quantizer over trained centroids and the trained PQ of its pre-selector.
   *
   * @param preselectorPq the centroids' PQ from {@link #build} ({@link #preselectorPq()}), or
   *     null below {@value #FAST_PROBE_MIN_NLIST} lists
   */
  public CoarseQuantizer(FloatMatrix centroids, boolean innerProduct,
      ProductQuantizer preselectorPq, PreselectorCalibration calibration) {
    if ((preselectorPq != null) != (centroids.rows() >= FAST_PROBE_MIN_NLIST)) {
      throw new IllegalArgumentException(centroids.rows() + " lists "
          + (preselectorPq == null ? "need" : "take no") + " a pre-selector PQ");
    }
    this.centroids = centroids;
    this.innerProduct = innerProduct;
    this.calibration = java.util.Objects.requireNonNull(calibration, "calibration");
    int n = centroids.rows(), d = centroids.dim();
    float[] c = centroids.data();
    this.transposed = new float[n * d];
    this.bias = new float[n];
    this.zeros = new float[n];
    float factor = innerProduct ? 1f : 2f;
    for (int c0 = 0; c0 < n; c0 += BLOCK) {
      int len = Math.min(BLOCK, n - c0);
      for (int i = 0; i < len; i++) {
        for (int j = 0; j < d; j++) {
          transposed[c0 * d + j * len + i] = factor * c[(c0 + i) * d + j];
        }
      }
    }
    for (int i = 0; i < n; i++) {
      bias[i] = innerProduct ? 0f : (float) -VectorUtil.squaredNorm(c, i * d, d);
    }
    this.preselector = preselectorPq == null ? null
        : new CentroidPreselector(centroids, innerProduct, preselectorPq);
  }

  /** The trained PQ of the pre-selector, stored with the centroids; null below the size. */
  public ProductQuantizer preselectorPq() {
    return preselector == null ? null : preselector.pq();
  }

  /** How far the pre-selector is trusted: its candidate floor and largest nprobe. */
  public PreselectorCalibration calibration() {
    return calibration;
  }

  boolean hasPreselector() {
    return preselector != null;
  }

  /**
   * Pre-selects {@code heap.k()} lists from {@code candidates} for one query, whatever {@link
   * #preselects} says (for the calibration).
   */
  void preselectWith(float[] q, int offset, int candidates, TopK heap, ProbeScratch scratch) {
    preselector.select(q, offset, candidates, heap, scratch.preselect);
  }

  /**
   * Buffers for {@link #probeBatch}, owned by the caller (one per searching thread at a time):
   * the scores of four queries against every list, and the pre-selector's tables and sums.
   */
  public final class ProbeScratch {
    final float[] scores = new float[4 * nlist()];
    final CentroidPreselector.Scratch preselect =
        preselector == null ? null : preselector.newScratch();

    private ProbeScratch() {}

    CoarseQuantizer owner() {
      return CoarseQuantizer.this;
    }
  }

  /** New buffers for {@link #probeBatch}. */
  public ProbeScratch newProbeScratch() {
    return new ProbeScratch();
  }

  /**
   * Whether {@link #probeBatch} pre-selects the lists of a query probing {@code nprobe}: up to
   * the calibrated nprobe, while the candidates scored exactly stay under 1/{@value
   * #FAST_PROBE_RATIO} of the lists. The same
   * for a lone query and for every query of a batch, so that no answer depends on its batch.
   */
  public boolean preselects(int nprobe) {
    return preselector != null && calibration.preselects(nprobe, nlist());
  }

  /**
   * Lists per exactly scored candidate from which a probe pre-selects. A lone query scores
   * centroids at a quarter of the rate of a batch's four-query kernel, so pre-selection pays for
   * it up to more candidates than for a batch; one rule for both keeps answers independent of
   * batching, and this one keeps a lone query's (a server's usual call) cost where it was.
   * How it was chosen: docs/bench/2026-12-07/search-constants.md.
   */
  static final int FAST_PROBE_RATIO = 8;

  /** Query {@code q}'s best {@code heap.k()} lists, pre-selected by the centroids' fast-scan. */
  private void preselect(float[] q, int offset, TopK heap, ProbeScratch scratch) {
    preselector.select(q, offset, calibration.candidates(heap.k()), heap, scratch.preselect);
  }

  public int nlist() {
    return centroids.rows();
  }

  public int dimension() {
    return centroids.dim();
  }

  public FloatMatrix centroids() {
    return centroids;
  }

  public boolean innerProduct() {
    return innerProduct;
  }

  /** Score of {@code v} against centroid {@code list}: dot product, or negated squared L2. */
  public float score(float[] v, int offset, int list) {
    KernelSupport k = VectorKernels.support();
    int d = centroids.dim();
    return innerProduct
        ? k.dotProduct(v, offset, centroids.data(), list * d, d)
        : -k.squareDistance(v, offset, centroids.data(), list * d, d);
  }

  /**
   * The best list of every row of {@code x}, with the tiled multi-threaded Flat scan: assigning a
   * million vectors to thousands of lists is the heaviest step of a build.
   */
  public int[] assignAll(FloatMatrix x, int threads) {
    FlatIndex flat = FlatIndex.of(centroids,
        innerProduct ? Similarity.DOT_PRODUCT : Similarity.EUCLIDEAN);
    SearchResults r = BatchSearch.search(flat, x, 1, SearchParams.DEFAULTS, threads);
    return r.ids();
  }

  /** The best list for {@code v}. */
  public int assign(float[] v, int offset) {
    int best = 0;
    float bestScore = Float.NEGATIVE_INFINITY;
    for (int c = 0; c < centroids.rows(); c++) {
      float s = score(v, offset, c);
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    return best;
  }

  /**
   * Probes for queries {@code [from, to)} of {@code queries} at once. The centroids are kept
   * transposed, so the scores of four queries against all lists come from one register-blocked
   * pass ({@link KernelSupport#dotProductsTransposed4}: each centroid load feeds four FMAs and no
   * lane sum is needed), then each query keeps its best {@code heaps[i].k()} lists. {@code
   * heaps[i]} (cleared first) receives query {@code from + i}'s lists with their scores: the dot
   * product for inner product, and for L2 {@code 2 q.c - |c|^2}, which orders lists as the
   * distance does. {@code scratch} is the caller's ({@link #newProbeScratch}).
   */
  public void probeBatch(FloatMatrix queries, int from, int to, TopK[] heaps,
      ProbeScratch scratch) {
    if (scratch.owner() != this) {
      throw new IllegalArgumentException("probe scratch of another coarse quantizer");
    }
    float[] scores = scratch.scores;
    KernelSupport k = VectorKernels.support();
    int d = centroids.dim();
    int nlist = centroids.rows();
    int n = to - from;
    float[] q = queries.data();
    int last = n - 1;
    if (preselects(heaps[0].k())) {
      for (int i = 0; i < n; i++) {
        preselect(q, queries.offset(from + i), heaps[i], scratch);
      }
      return;
    }
    for (int i = 0; i < n; i++) {
      heaps[i].clear();
    }
    // Blocks outside, queries inside: each block of transposed centroids is read from memory
    // once per batch and then from L2 for every group of four queries.
    for (int c0 = 0; c0 < nlist; c0 += BLOCK) {
      int len = Math.min(BLOCK, nlist - c0);
      int t0 = c0 * d;
      for (int g = 0; g < n; g += 4) {
        int lanes = Math.min(4, n - g);
        int q0 = queries.offset(from + g);
        if (lanes == 1) {
          // A lone query (one query per call, or a batch's remainder): one query, four registers
          // of centroids per pass, rather than the four-query kernel scoring it four times over.
          k.dotProductsTransposed(q, q0, transposed, t0, d, len, scores, 0);
        } else {
          int q1 = queries.offset(from + Math.min(g + 1, last));
          int q2 = queries.offset(from + Math.min(g + 2, last));
          int q3 = queries.offset(from + Math.min(g + 3, last));
          k.dotProductsTransposed4(q, q0, q1, q2, q3, transposed, t0, d, len, zeros, c0,
              scores, 0);
        }
        if (!innerProduct) {
          // After the dot products, in both kernels: the same float additions in the same
          // order, so a query's scores are the same bits in either.
          for (int j = 0; j < lanes; j++) {
            for (int c = 0; c < len; c++) {
              scores[j * len + c] += bias[c0 + c];
            }
          }
        }
        for (int j = 0; j < lanes; j++) {
          offerBest(k, scores, j * len, len, c0, heaps[g + j]);
        }
      }
    }
  }

  /**
   * Offers lists {@code base..base+count)}, scored at {@code scores[offset..]}, to {@code heap}:
   * one vector compare a block finds the few lists above the heap's bar (about 100 of 4,096
   * enter a top-16), rather than a branch a list.
   */
  private static void offerBest(
      KernelSupport k, float[] scores, int offset, int count, int base, TopK heap) {
    float threshold = heap.threshold();
    long mask = k.atLeast(scores, offset, count, threshold);
    while (mask != 0) {
      int c = Long.numberOfTrailingZeros(mask);
      mask &= mask - 1;
      float s = scores[offset + c];
      if (s >= threshold && heap.offer(base + c, s)) {
        threshold = heap.threshold();
      }
    }
  }

  /**
   * Fills {@code heap} (cleared first) with the best {@code heap.k()} lists for the query; the
   * heap's scores are the query-centroid scores, which inner-product residual search needs.
   */
  public void probe(float[] q, int offset, TopK heap) {
    heap.clear();
    for (int c = 0; c < centroids.rows(); c++) {
      float s = score(q, offset, c);
      if (s >= heap.threshold()) {
        heap.offer(c, s);
      }
    }
  }
}
