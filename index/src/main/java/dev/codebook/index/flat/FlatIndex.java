package dev.codebook.index.flat;

import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchContext;
import dev.codebook.index.VectorIndex;
import dev.codebook.index.search.AcceptOrds;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.search.TopK;
import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import dev.codebook.index.vector.VectorUtil;
import java.util.Arrays;

/**
 * Exact brute-force search over full float32 vectors: the oracle every recall figure in Codebook
 * is measured against, and the search path of a collection before it is trained.
 *
 * <p>A batch is scanned in tiles: a block of {@value #BLOCK_ROWS} vectors (a few hundred KB, kept
 * in L2) is scored against the batch's queries four at a time with {@link
 * KernelSupport#dotProduct4}, so each vector is fetched from memory once per batch rather than
 * once per query. Cosine vectors are normalized at insert and queries at search time.
 */
public final class FlatIndex implements VectorIndex {

  /** Rows per tile: 256 x 384 floats = 384 KB, inside a 1-2 MB L2 with the queries. */
  static final int BLOCK_ROWS = 256;

  private final int dim;
  private final Similarity similarity;
  private float[] data;
  private int size;

  public FlatIndex(int dimension, Similarity similarity) {
    if (dimension <= 0) {
      throw new IllegalArgumentException("dimension must be positive, got " + dimension);
    }
    this.dim = dimension;
    this.similarity = similarity;
    this.data = new float[0];
  }

  /** A Flat index holding {@code vectors}. */
  public static FlatIndex of(FloatMatrix vectors, Similarity similarity) {
    FlatIndex index = new FlatIndex(vectors.dim(), similarity);
    index.add(vectors);
    return index;
  }

  @Override
  public IndexSpec spec() {
    return IndexSpec.flat();
  }

  @Override
  public int dimension() {
    return dim;
  }

  @Override
  public Similarity similarity() {
    return similarity;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public long bytesPerVector() {
    return 4L * dim;
  }

  /** Row {@code id} as stored (normalized for cosine); a copy. */
  public float[] vector(int id) {
    if (id < 0 || id >= size) {
      throw new IndexOutOfBoundsException("id " + id + " out of [0, " + size + ")");
    }
    return Arrays.copyOfRange(data, id * dim, (id + 1) * dim);
  }

  @Override
  public void add(FloatMatrix vectors) {
    checkDimension(vectors.dim(), "vectors");
    int n = vectors.rows();
    for (int i = 0; i < n; i++) {
      VectorUtil.checkFinite(vectors.data(), vectors.offset(i), dim, "vectors", i);
    }
    int newSize = Math.addExact(size, n);
    long needed = (long) newSize * dim;
    if (needed > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "flat index holds at most " + ((Integer.MAX_VALUE - 8) / dim) + " vectors of dimension "
              + dim + ", asked for " + newSize);
    }
    if (needed > data.length) {
      long grown = Math.max(needed, Math.min(Integer.MAX_VALUE - 8L, data.length * 3L / 2));
      data = Arrays.copyOf(data, (int) grown);
    }
    System.arraycopy(vectors.data(), 0, data, size * dim, n * dim);
    if (similarity.normalizes()) {
      for (int i = 0; i < n; i++) {
        VectorUtil.normalize(data, (size + i) * dim, dim, "vectors", i);
      }
    }
    size = newSize;
  }

  @Override
  public FloatMatrix prepareQueries(FloatMatrix queries) {
    return VectorUtil.prepareQueries(queries, dim, similarity);
  }


  @Override
  public void search(SearchContext ctx) {
    FloatMatrix queries = ctx.queries();
    int from = ctx.from();
    AcceptOrds accept = ctx.accept();
    SearchResults out = ctx.results();
    int nq = ctx.to() - from;
    if (nq <= 0) {
      return;
    }
    TopK[] heaps = new TopK[nq];
    for (int i = 0; i < nq; i++) {
      heaps[i] = new TopK(out.k());
    }
    if (nq == 1) {
      scanOne(queries.data(), queries.offset(from), heaps[0], accept);
    } else {
      scanTiled(queries, from, nq, heaps, accept);
    }
    for (int i = 0; i < nq; i++) {
      out.fill(from + i, heaps[i]);
    }
    ctx.count(0, (long) nq * size);
  }

  private void scanOne(float[] q, int qOffset, TopK heap, AcceptOrds accept) {
    KernelSupport k = VectorKernels.support();
    boolean l2 = similarity == Similarity.EUCLIDEAN;
    float[] d = data;
    for (int i = 0, off = 0; i < size; i++, off += dim) {
      float s = l2 ? -k.squareDistance(q, qOffset, d, off, dim) : k.dotProduct(q, qOffset, d, off, dim);
      if (s >= heap.threshold() && (accept == null || accept.accept(i))) {
        heap.offer(i, s);
      }
    }
  }

  private void scanTiled(FloatMatrix queries, int from, int nq, TopK[] heaps, AcceptOrds accept) {
    KernelSupport k = VectorKernels.support();
    boolean l2 = similarity == Similarity.EUCLIDEAN;
    float[] q = queries.data();
    float[] d = data;
    float[] s = new float[4];
    for (int b0 = 0; b0 < size; b0 += BLOCK_ROWS) {
      int b1 = Math.min(size, b0 + BLOCK_ROWS);
      for (int g = 0; g < nq; g += 4) {
        // A short last group repeats its last query; the extra scores are dropped.
        int last = nq - 1;
        int q0 = queries.offset(from + g);
        int q1 = queries.offset(from + Math.min(g + 1, last));
        int q2 = queries.offset(from + Math.min(g + 2, last));
        int q3 = queries.offset(from + Math.min(g + 3, last));
        int lanes = Math.min(4, nq - g);
        for (int i = b0, off = b0 * dim; i < b1; i++, off += dim) {
          if (l2) {
            k.squareDistance4(q, q0, q1, q2, q3, d, off, dim, s, 0);
            s[0] = -s[0];
            s[1] = -s[1];
            s[2] = -s[2];
            s[3] = -s[3];
          } else {
            k.dotProduct4(q, q0, q1, q2, q3, d, off, dim, s, 0);
          }
          for (int j = 0; j < lanes; j++) {
            TopK h = heaps[g + j];
            if (s[j] >= h.threshold() && (accept == null || accept.accept(i))) {
              h.offer(i, s[j]);
            }
          }
        }
      }
    }
  }

  private void checkDimension(int got, String what) {
    if (got != dim) {
      throw new IllegalArgumentException(
          what + ": vector dimensions differ: " + got + "!=" + dim);
    }
  }
}
