package dev.codebook.index.filter;

import dev.codebook.index.SearchContext;
import dev.codebook.index.SearchParams;
import dev.codebook.index.VectorIndex;
import dev.codebook.index.flat.FlatIndex;
import dev.codebook.index.search.ScanStats;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.search.TopK;
import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.Similarity;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.VectorUtil;
import java.util.Objects;
import java.util.function.Function;
import org.roaringbitmap.RoaringBitmap;

/**
 * One filtered search call over an index: the {@link FilterPlan} chosen once from the accepted
 * bitmap's cardinality, then applied to each group of queries. The exact path gathers the
 * accepted rows once per call and scores them with the SIMD kernels into a top-k heap keyed by
 * ordinal; the index path passes the bitmap as accept-ordinals with a
 * widened nprobe and searches again, wider, the queries that came back short.
 */
public final class FilteredSearch {

  private final VectorIndex index;
  private final RoaringBitmap accepted;
  private final Function<int[], FloatMatrix> rows;
  private final SearchParams params;
  private final int nlist;
  private final int acceptedCount;
  private final FilterPlan plan;
  private int[] exactOrds;
  private float[] exactRows;
  private float[] invNorms;
  private int passes;
  private final ScanStats work = new ScanStats();

  /**
   * @param index the index to search; its ordinals are the bitmap's
   * @param accepted the ordinals that may be returned (filter result without tombstones)
   * @param rows the full vectors of the given ordinals, as stored (read only on the exact path)
   * @param params the request's search parameters
   */
  public FilteredSearch(VectorIndex index, RoaringBitmap accepted,
      Function<int[], FloatMatrix> rows, SearchParams params) {
    this(index, accepted, rows, params, null);
  }

  /** As above with a given plan (null: {@link FilterPlan#choose}), for tests and measurements. */
  public FilteredSearch(VectorIndex index, RoaringBitmap accepted,
      Function<int[], FloatMatrix> rows, SearchParams params, FilterPlan plan) {
    this.index = Objects.requireNonNull(index, "index");
    this.accepted = Objects.requireNonNull(accepted, "accepted");
    this.rows = Objects.requireNonNull(rows, "rows");
    this.params = Objects.requireNonNull(params, "params");
    this.nlist = index.spec().hasIvf() ? index.spec().nlist() : 0;
    this.acceptedCount = accepted.getCardinality();
    this.plan = plan != null ? plan : FilterPlan.choose(acceptedCount, index.size(),
        params.nprobe(), nlist, index instanceof FlatIndex);
  }

  public FilterPlan plan() {
    return plan;
  }

  /** Index passes made so far (1 per group, more when widened); for tests and metrics. */
  public int passes() {
    return passes;
  }

  /** The index passes' work so far: codes scanned, vectors scored exactly. */
  public ScanStats work() {
    return work;
  }

  /**
   * The top {@code k} accepted ordinals of queries {@code [from, to)}, in a result set of {@code
   * to - from} queries.
   *
   * @param raw the queries as given (the exact path prepares them itself: the index's own
   *     preparation may rotate them)
   * @param prepared {@code raw} prepared by the index ({@link VectorIndex#prepareQueries})
   */
  public SearchResults search(FloatMatrix raw, FloatMatrix prepared, int from, int to, int k) {
    return search(raw, prepared, from, to, k, null);
  }

  /**
   * As {@link #search(FloatMatrix, FloatMatrix, int, int, int)}, handing the index the raw
   * queries beside the prepared ones and the call's cancellation ({@code cancelled}, or null),
   * as the unfiltered search does.
   */
  public SearchResults search(FloatMatrix raw, FloatMatrix prepared, int from, int to, int k,
      java.util.function.BooleanSupplier cancelled) {
    int nq = to - from;
    SearchResults out = new SearchResults(nq, k);
    if (acceptedCount == 0) {
      return out;
    }
    if (plan.exact()) {
      exact(VectorUtil.prepareQueries(slice(raw, from, to), index.dimension(),
          index.similarity()), out);
      return out;
    }
    RoaringBitmap acc = accepted;
    int nprobe = plan.nprobe();
    // One context for every pass of the call: its scratch is reused pass after pass.
    try (SearchContext ctx = new SearchContext().accept(acc::contains).cancellation(cancelled)) {
      index.search(ctx.queries(slice(prepared, from, to), slice(raw, from, to))
          .params(new SearchParams(nprobe, params.rerank())).results(out));
      passes++;
      int want = Math.min(k, acceptedCount);
      while (nprobe < nlist) {
        int[] shortOnes = shortQueries(out, want);
        if (shortOnes.length == 0) {
          break;
        }
        nprobe = FilterPlan.widen(nprobe, nlist);
        SearchResults redo = new SearchResults(shortOnes.length, k);
        index.search(ctx.queries(pick(prepared, from, shortOnes), pick(raw, from, shortOnes))
            .params(new SearchParams(nprobe, params.rerank())).results(redo));
        passes++;
        for (int i = 0; i < shortOnes.length; i++) {
          System.arraycopy(redo.ids(), i * k, out.ids(), shortOnes[i] * k, k);
          System.arraycopy(redo.scores(), i * k, out.scores(), shortOnes[i] * k, k);
        }
      }
      work.add(ctx.codesScanned(), ctx.exactScored());
    }
    return out;
  }

  /**
   * Scores the accepted rows exactly, gathered once per call; for cosine the stored rows are
   * not normalized, so each score is scaled by the row's inverse norm (computed once).
   */
  private void exact(FloatMatrix queries, SearchResults out) {
    int dim = index.dimension();
    Similarity sim = index.similarity();
    if (exactRows == null) {
      exactOrds = accepted.toArray();
      exactRows = rows.apply(exactOrds).data();
      if (sim.normalizes()) {
        invNorms = new float[exactOrds.length];
        for (int i = 0; i < invNorms.length; i++) {
          float n2 = VectorKernels.dotProduct(exactRows, i * dim, exactRows, i * dim, dim);
          invNorms[i] = n2 > 0 ? (float) (1 / Math.sqrt(n2)) : 0f;
        }
      }
    }
    float[] rowData = exactRows;
    float[] inv = invNorms;
    int n = exactOrds.length;
    KernelSupport kernels = VectorKernels.support();
    TopK heap = new TopK(out.k());
    float[] q = queries.data();
    for (int qi = 0; qi < queries.rows(); qi++) {
      int qOff = queries.offset(qi);
      heap.clear();
      for (int i = 0, off = 0; i < n; i++, off += dim) {
        float score = switch (sim) {
          case EUCLIDEAN -> -kernels.squareDistance(q, qOff, rowData, off, dim);
          case COSINE -> kernels.dotProduct(q, qOff, rowData, off, dim) * inv[i];
          case DOT_PRODUCT -> kernels.dotProduct(q, qOff, rowData, off, dim);
        };
        if (score >= heap.threshold()) {
          heap.offer(exactOrds[i], score);
        }
      }
      out.fill(qi, heap);
    }
  }

  /** Positions of the queries with fewer than {@code want} results. */
  private static int[] shortQueries(SearchResults r, int want) {
    int k = r.k();
    int[] ids = r.ids();
    int[] out = new int[r.queries()];
    int n = 0;
    for (int q = 0; q < r.queries(); q++) {
      if (want > 0 && ids[q * k + want - 1] < 0) {
        out[n++] = q;
      }
    }
    return java.util.Arrays.copyOf(out, n);
  }

  private static FloatMatrix pick(FloatMatrix m, int from, int[] positions) {
    int dim = m.dim();
    float[] data = new float[positions.length * dim];
    for (int i = 0; i < positions.length; i++) {
      System.arraycopy(m.data(), m.offset(from + positions[i]), data, i * dim, dim);
    }
    return new FloatMatrix(positions.length, dim, data);
  }

  /** Rows {@code [from, to)} of {@code m}: {@code m} itself when that is all of it. */
  private static FloatMatrix slice(FloatMatrix m, int from, int to) {
    return from == 0 && to == m.rows() ? m : m.slice(from, to);
  }
}
