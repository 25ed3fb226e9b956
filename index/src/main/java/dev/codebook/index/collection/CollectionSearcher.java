package dev.codebook.index.collection;

import dev.codebook.index.SearchContext;
import dev.codebook.index.SearchParams;
import dev.codebook.index.VectorIndex;
import dev.codebook.index.filter.AttributeIndex;
import dev.codebook.index.filter.Filter;
import dev.codebook.index.filter.FilteredSearch;
import dev.codebook.index.search.AcceptOrds;
import dev.codebook.index.search.ScanStats;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.search.TopK;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.VectorUtil;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.roaringbitmap.RoaringBitmap;

/**
 * Searches a snapshot of the collection (Lucene's {@code IndexSearcher} over a point-in-time
 * reader): the segment set with one reference each and their deletion bitmaps, taken under the
 * read lock. Buffers are searched exactly under the read lock (they are small); segments after
 * it is released, each with its own index (IVF-PQ when encoded, else exact), and the per-part
 * top-k are merged by score.
 *
 * <p>A search's arguments are checked once, here ({@code k}, the queries' dimension and values,
 * {@code nprobe} against the built index's {@code nlist}); every call into a {@link
 * VectorIndex} is made from {@link #searchPart}.
 */
final class CollectionSearcher {

  /** Queries searched between two deadline checks when the index does not poll one itself. */
  static final int CANCEL_CHECK_QUERIES = 16;

  private final EngineState st;

  CollectionSearcher(EngineState st) {
    this.st = st;
  }

  /** What a filter sees of one part of a snapshot: its rows' attributes. */
  private record Part(int rows, Supplier<AttributeIndex> attributeIndex,
      IntFunction<byte[]> attributes) {}

  /**
   * The top {@code k} live rows for every query, best first.
   *
   * @param filter evaluated on each part's {@link AttributeIndex} (null: all rows)
   * @param blobFilter tested on each row's attribute blob (null: all rows); at most one of the
   *     two filters is given
   * @see CollectionEngine#search
   */
  CollectionEngine.Hit[][] search(FloatMatrix queries, int k, SearchParams params, Filter filter,
      Predicate<byte[]> blobFilter, boolean withValues, boolean withAttributes,
      BooleanSupplier cancelled, ScanStats work) {
    if (k <= 0) {
      throw new IllegalArgumentException("k must be positive, got " + k);
    }
    VectorUtil.checkQueries(queries, st.dim, st.similarity);
    Function<Part, RoaringBitmap> accepted = filter != null
        ? part -> part.attributeIndex().get().evaluate(filter)
        : blobFilter != null ? part -> accepted(blobFilter, part) : null;
    int nq = queries.rows();
    TopK[] merged = new TopK[nq];
    for (int q = 0; q < nq; q++) {
      merged[q] = new TopK(k);
    }
    // Buffer hits keyed by negative global ids: -(1 + index into bufferRows).
    List<CollectionEngine.Row> bufferRows = new ArrayList<>();
    List<Segment> segs;
    List<RoaringBitmap> dels = new ArrayList<>();
    st.lock.readLock().lock();
    try {
      st.ensureOpenUnchecked();
      checkNprobe(params);
      segs = new ArrayList<>(st.segments.size());
      for (Segment s : st.segments) {
        s.incRef();
        segs.add(s);
        dels.add(s.deletes);
      }
      for (WriteBuffer b : st.frozen == null ? List.of(st.buffer)
          : List.of(st.frozen, st.buffer)) {
        if (b.liveRows() <= 0) {
          continue;
        }
        RoaringBitmap acc = accepted == null ? null
            : accepted.apply(new Part(b.rows, b::attributeIndex, b.attrs::get));
        SearchResults r = searchPart(b.flat, b.deletes.isEmpty() ? null : b.deletes, acc,
            b::rows, queries, k, params, cancelled, work);
        for (int q = 0; q < nq; q++) {
          for (int j = 0; j < r.k(); j++) {
            int ord = r.id(q, j);
            if (ord < 0) {
              break;
            }
            if (merged[q].offer(-1 - bufferRows.size(), r.score(q, j))) {
              bufferRows.add(b.row(ord, withValues, withAttributes));
            }
          }
        }
      }
    } finally {
      st.lock.readLock().unlock();
    }
    try {
      HitTable hitTable = new HitTable();
      for (int i = 0; i < segs.size(); i++) {
        Segment s = segs.get(i);
        RoaringBitmap del = dels.get(i);
        if (s.size - del.getCardinality() <= 0) {
          continue;
        }
        RoaringBitmap acc = accepted == null ? null : accepted.apply(new Part(s.size,
            () -> s.attributeIndex(st.options.attributeDecoder()), row -> s.attributes[row]));
        SearchResults r = searchPart(s.index(), del.isEmpty() ? null : del, acc, s::rows,
            queries, k, params, cancelled, work);
        for (int q = 0; q < nq; q++) {
          for (int j = 0; j < r.k(); j++) {
            int ord = r.id(q, j);
            if (ord < 0) {
              break;
            }
            // Non-negative heap ids index the call's table of (segment, ordinal) hits.
            merged[q].offer(hitTable.add(i, ord), r.score(q, j));
          }
        }
      }
      return hits(merged, k, bufferRows, segs, hitTable, withValues, withAttributes);
    } finally {
      for (Segment s : segs) {
        s.decRef();
      }
    }
  }

  /**
   * Fails when {@code params} probes more lists than the built index has: every IVF segment is
   * encoded with a codebook of the collection's spec, so its nlist is the spec's. Caller holds
   * the read lock.
   */
  private void checkNprobe(SearchParams params) {
    if (st.codebookVersion > 0 && st.spec.hasIvf() && params.nprobe() > st.spec.nlist()) {
      throw new NprobeOutOfRangeException(params.nprobe(), st.spec.nlist());
    }
  }

  /** The merged heaps drained into hits, best first. */
  private static CollectionEngine.Hit[][] hits(TopK[] merged, int k,
      List<CollectionEngine.Row> bufferRows, List<Segment> segs, HitTable hitTable,
      boolean withValues, boolean withAttributes) {
    int nq = merged.length;
    CollectionEngine.Hit[][] out = new CollectionEngine.Hit[nq][];
    int[] idsBuf = new int[k];
    float[] scoresBuf = new float[k];
    for (int q = 0; q < nq; q++) {
      int n = merged[q].drainBestFirst(idsBuf, scoresBuf, 0);
      CollectionEngine.Hit[] hits = new CollectionEngine.Hit[n];
      for (int j = 0; j < n; j++) {
        int h = idsBuf[j];
        if (h < 0) {
          CollectionEngine.Row row = bufferRows.get(-1 - h);
          hits[j] = new CollectionEngine.Hit(row.id(), scoresBuf[j], row.values(),
              row.attributes());
        } else {
          Segment s = segs.get(hitTable.seg(h));
          int ord = hitTable.ord(h);
          hits[j] = new CollectionEngine.Hit(s.ids[ord], scoresBuf[j],
              withValues ? s.vector(ord) : null, withAttributes ? s.attributes[ord] : null);
        }
      }
      out[q] = hits;
    }
    return out;
  }

  /** Segment hits of one search call, indexed by the id given to the merge heap. */
  private static final class HitTable {
    int[] segs = new int[64];
    int[] ords = new int[64];
    int n;

    int add(int seg, int ord) {
      if (n == segs.length) {
        segs = Arrays.copyOf(segs, n * 2);
        ords = Arrays.copyOf(ords, n * 2);
      }
      segs[n] = seg;
      ords[n] = ord;
      return n++;
    }

    int seg(int h) {
      return segs[h];
    }

    int ord(int h) {
      return ords[h];
    }
  }

  /** The rows of {@code part} whose attribute blob {@code filter} accepts. */
  private static RoaringBitmap accepted(Predicate<byte[]> filter, Part part) {
    RoaringBitmap ok = new RoaringBitmap();
    for (int r = 0, rows = part.rows(); r < rows; r++) {
      if (filter.test(part.attributes().apply(r))) {
        ok.add(r);
      }
    }
    return ok;
  }

  /**
   * Searches one part of the snapshot (a segment or a buffer) for the top {@code k} of every
   * query among its rows not in {@code deleted} and, when given, in {@code accepted}. The only
   * place the engine calls into a {@link VectorIndex}.
   *
   * @param rows the part's vectors as upserted, for a filtered search's exact scoring
   * @param cancelled polled between groups of {@value #CANCEL_CHECK_QUERIES} queries, or inside
   *     the scan by an index that {@linkplain VectorIndex#pollsCancellation polls it}
   * @param work receives the codes scanned and vectors scored exactly
   */
  private static SearchResults searchPart(VectorIndex index, RoaringBitmap deleted,
      RoaringBitmap accepted, Function<int[], FloatMatrix> rows, FloatMatrix queries, int k,
      SearchParams params, BooleanSupplier cancelled, ScanStats work) {
    int nq = queries.rows();
    int fetch = Math.min(k, index.size());
    if (fetch == 0 || (accepted != null && accepted.isEmpty())) {
      return new SearchResults(nq, Math.max(1, fetch));
    }
    FloatMatrix prepared = index.prepareQueries(queries);
    FilteredSearch filtered = null;
    AcceptOrds accept = null;
    if (accepted != null) {
      if (deleted != null) {
        accepted = RoaringBitmap.andNot(accepted, deleted);
      }
      filtered = new FilteredSearch(index, accepted, rows, params);
    } else if (deleted != null) {
      RoaringBitmap dead = deleted;
      accept = ord -> !dead.contains(ord);
    }
    SearchResults r = new SearchResults(nq, fetch);
    // An index that polls the deadline inside its scan gets the whole batch, so IVF-PQ can scan
    // a big batch list by list; otherwise parts of 16 queries bound the time past a deadline.
    int step = filtered == null && index.pollsCancellation() ? nq : CANCEL_CHECK_QUERIES;
    try (SearchContext ctx = new SearchContext().queries(prepared, queries).params(params)
        .accept(accept).cancellation(cancelled).results(r)) {
      for (int from = 0; from < nq; from += step) {
        if (cancelled.getAsBoolean()) {
          throw new CancellationException("search cancelled after " + from + " of " + nq
              + " queries");
        }
        int to = Math.min(nq, from + step);
        if (filtered != null) {
          SearchResults part = filtered.search(queries, prepared, from, to, fetch, cancelled);
          System.arraycopy(part.ids(), 0, r.ids(), from * fetch, (to - from) * fetch);
          System.arraycopy(part.scores(), 0, r.scores(), from * fetch, (to - from) * fetch);
        } else {
          index.search(ctx.range(from, to));
        }
      }
      work.add(ctx.codesScanned(), ctx.exactScored());
      if (filtered != null) {
        work.add(filtered.work().codes(), filtered.work().exact());
      }
    }
    return r;
  }
}
