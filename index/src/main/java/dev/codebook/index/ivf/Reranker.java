package dev.codebook.index.ivf;

import dev.codebook.index.quant.OpqRotation;
import dev.codebook.index.search.TopK;
import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.Similarity;
import dev.codebook.index.vector.VectorUtil;
import java.util.Arrays;

/**
 * Re-scores a query's candidates exactly against their full vectors ({@code RFlat}, FAISS's
 * {@code IndexRefineFlat}): the scan's best {@code k * rerank} go in, the best {@code k} by exact
 * score come out. The vectors come from {@link RawVectors} ({@link HeapRawVectors} or {@link
 * MappedRawVectors}), read in ordinal order.
 *
 * <p>Immutable and shared by every search of an index; a search's buffers are its own ({@link
 * Scratch}, in its context's scratch).
 */
final class Reranker {

  private final RawVectors raw;
  private final OpqRotation rotation; // null without OPQ
  private final Similarity similarity;
  private final boolean innerProduct;
  private final int dim;

  Reranker(RawVectors raw, OpqRotation rotation, Similarity similarity, int dim) {
    this.raw = raw;
    this.rotation = rotation;
    this.similarity = similarity;
    this.innerProduct = similarity != Similarity.EUCLIDEAN;
    this.dim = dim;
  }

  /** Whether a query as given can be scored against the store directly (it holds originals). */
  boolean scoresOriginals() {
    return raw.original();
  }

  /** Buffers of one search: the candidates in id order, a vector, the query, the result heap. */
  static final class Scratch {
    final int[] candidateIds;
    final float[] row;
    final float[] unrotatedQuery;
    final TopK reranked;

    Scratch(int candidates, int k, int dim) {
      candidateIds = new int[candidates];
      row = new float[dim];
      unrotatedQuery = new float[dim];
      reranked = new TopK(k);
    }
  }

  /**
   * Re-ranks {@code candidates} (emptied) for a prepared (normalized, rotated) query into {@code
   * s.reranked}; returns the vectors scored.
   */
  int rerank(float[] q, int qOff, TopK candidates, Scratch s) {
    boolean original = raw.original();
    if (original && rotation != null) {
      // The store holds the original vectors: rotate the query back once (R is orthogonal, so
      // <R^T q, x> = <q, R x>) rather than each candidate forward.
      rotation.applyTranspose(q, qOff, s.unrotatedQuery, 0);
      q = s.unrotatedQuery;
      qOff = 0;
    }
    return rescoreExactly(q, qOff, 1f, original && similarity.normalizes(), candidates, s);
  }

  /**
   * Re-ranks {@code candidates} (emptied) for a query as given, against a store of original
   * vectors ({@link #scoresOriginals}), into {@code s.reranked}; returns the vectors scored.
   */
  int rerankOriginal(float[] q, int qOff, TopK candidates, Scratch s) {
    boolean cosine = similarity.normalizes();
    float scale = 1f;
    if (cosine) {
      double norm2 = VectorUtil.squaredNorm(q, qOff, dim);
      scale = norm2 > 0 ? (float) (1 / Math.sqrt(norm2)) : 0f;
    }
    return rescoreExactly(q, qOff, scale, cosine, candidates, s);
  }

  /**
   * Scores the candidates exactly in id order into {@code s.reranked}: inner products times
   * {@code scale}, divided by the candidate's norm when {@code divideByNorm}; else minus the
   * squared L2 distance.
   */
  private int rescoreExactly(float[] q, int qOff, float scale, boolean divideByNorm,
      TopK candidates, Scratch s) {
    // In id order: the full vectors are read from a file by id, and ascending reads let the
    // hardware prefetcher and the page cache's read-ahead work.
    int n = candidates.idsUnordered(s.candidateIds);
    candidates.clear();
    Arrays.sort(s.candidateIds, 0, n);
    raw.prefetch(s.candidateIds, n);
    s.reranked.clear();
    KernelSupport k = VectorKernels.support();
    for (int i = 0; i < n; i++) {
      int id = s.candidateIds[i];
      raw.get(id, s.row, 0);
      float score;
      if (innerProduct) {
        score = (divideByNorm ? k.dotProductOverNorm(q, qOff, s.row, 0, dim)
            : k.dotProduct(q, qOff, s.row, 0, dim)) * scale;
      } else {
        score = -k.squareDistance(q, qOff, s.row, 0, dim);
      }
      s.reranked.offer(id, score);
    }
    return n;
  }
}
