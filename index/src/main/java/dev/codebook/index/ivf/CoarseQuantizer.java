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
   * Probes for queries {@code [from, to)} of {@code queries} at once: four queries share each
   * centroid load ({@link KernelSupport#dotProduct4}), which matters once the centroids outgrow
   * L2. {@code heaps[i]} (cleared first) receives query {@code from + i}'s best lists.
   */
  public void probeBatch(FloatMatrix queries, int from, int to, TopK[] heaps, float[] scratch4) {
    KernelSupport k = VectorKernels.support();
    int d = centroids.dim();
    int n = to - from;
    float[] c = centroids.data();
    float[] q = queries.data();
    for (int i = 0; i < n; i++) {
      heaps[i].clear();
    }
    for (int g = 0; g < n; g += 4) {
      int last = n - 1;
      int q0 = queries.offset(from + g);
      int q1 = queries.offset(from + Math.min(g + 1, last));
      int q2 = queries.offset(from + Math.min(g + 2, last));
      int q3 = queries.offset(from + Math.min(g + 3, last));
      int lanes = Math.min(4, n - g);
      if (lanes == 1) {
        // A lone query (one query per call, or a batch's remainder): the four-query kernel
        // would score it four times over.
        probe(q, q0, heaps[g]);
        continue;
      }
      for (int list = 0, off = 0; list < centroids.rows(); list++, off += d) {
        if (innerProduct) {
          k.dotProduct4(q, q0, q1, q2, q3, c, off, d, scratch4, 0);
        } else {
          k.squareDistance4(q, q0, q1, q2, q3, c, off, d, scratch4, 0);
          for (int j = 0; j < 4; j++) {
            scratch4[j] = -scratch4[j];
          }
        }
        for (int j = 0; j < lanes; j++) {
          TopK h = heaps[g + j];
          if (scratch4[j] >= h.threshold()) {
            h.offer(list, scratch4[j]);
          }
        }
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
