package dev.codebook.index.ivf;

import dev.codebook.index.BatchSearch;
import dev.codebook.index.SearchParams;
import dev.codebook.index.flat.FlatIndex;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.search.TopK;
import dev.codebook.index.vector.Similarity;
import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.FloatMatrix;

/**
 * The coarse quantizer of an IVF index: {@code nlist} centroids, each the head of one inverted
 * list. Vectors go to the list of their best centroid under the index's similarity (largest dot
 * product for inner product and cosine, smallest distance for L2), and a query probes its
 * {@code nprobe} best lists. Immutable.
 */
public final class CoarseQuantizer {

  private final FloatMatrix centroids;
  private final boolean innerProduct;

  public CoarseQuantizer(FloatMatrix centroids, boolean innerProduct) {
    this.centroids = centroids;
    this.innerProduct = innerProduct;
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
