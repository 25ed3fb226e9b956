package dev.codebook.index.ivf;

import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchContext;
import dev.codebook.index.SearchParams;
import dev.codebook.index.VectorIndex;
import dev.codebook.index.fastscan.FastScanLayout;
import dev.codebook.index.quant.OpqRotation;
import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.search.AcceptOrds;
import dev.codebook.index.search.ScratchPool;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.search.TopK;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import dev.codebook.index.vector.VectorUtil;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * IVF-PQ, FAISS's {@code IndexIVFPQ} and {@code IndexIVFPQFastScan} (and {@code IndexPQ} when
 * there is no IVF): a coarse quantizer splits the vectors into inverted lists, and each vector is
 * stored as a product-quantized code of itself or of its residual against its list's centroid.
 * Search probes the {@code nprobe} best lists and scores codes with asymmetric distance
 * computation (ADC): a table of query-to-sub-centroid scores built once per query, summed per
 * code.
 *
 * <p>Scores are "higher is better" throughout. For inner product (and cosine, on normalized
 * vectors) with residuals, {@code <q, c + r> = <q, c> + sum_s <q_s, r_s>}: the table is the
 * same for every list and the list adds the query-centroid score it was probed with. For L2 with
 * residuals the table is rebuilt per list from {@code q - c}, as FAISS does without its
 * precomputed tables.
 *
 * <p>As FAISS splits {@code IndexIVF}: the codes live in {@link InvertedLists} (blocks of 64
 * vectors laid out for a register per sub-quantizer, see {@link dev.codebook.index.fastscan}), a
 * query-scoped {@link ListScanner} scans them (a byte-quantized table filters 64 vectors per
 * kernel call, and the few that may enter the top-k are re-scored with the float table, so
 * results are exactly those of plain float ADC over the same codes), and a {@link Reranker}
 * re-scores the candidates against full vectors. This class encodes vectors into the lists and
 * orders a search: probes, scans query by query or list by list, re-ranks.
 *
 * <p>With {@code OPQ}, vectors and queries are rotated by an {@link OpqRotation} as they come in
 * (after normalization for cosine), and everything after that, the coarse quantizer, PQ and the
 * raw vectors of {@code RFlat}, lives in the rotated space: a rotation keeps dot products and L2
 * distances, so scores are those of the original vectors up to rounding.
 *
 * <p>With {@code RFlat}, the best {@code k * rerank} candidates are re-scored exactly against the
 * full vectors. Searches may run concurrently, each with its own {@link SearchContext} (whose
 * scratch is an {@link IvfScratch}); {@link #add} may not run with them.
 */
public final class IvfPqIndex implements VectorIndex {

  private final IndexSpec spec;
  private final int dim;
  private final Similarity similarity;
  private final boolean innerProduct;
  private final OpqRotation rotation; // null without OPQ
  private final CoarseQuantizer coarse; // null without IVF: one list, no residual
  private final ProductQuantizer pq;
  private final int nlists;
  private final int m;
  private final int ksub;
  private final boolean fastScan;
  private final boolean residual;
  private final HeapInvertedLists lists;
  private final RawVectors raw; // null without RFlat
  private final Reranker reranker; // null without RFlat
  /** Idle search buffers between contexts; none is tied to a thread. */
  private final ScratchPool<IvfScratch> idle = new ScratchPool<>();
  private final Consumer<Object> releaseScratch = o -> idle.offer((IvfScratch) o);
  private int size;

  /** An empty index without OPQ over trained quantizers; see the full constructor. */
  public IvfPqIndex(IndexSpec spec, Similarity similarity, CoarseQuantizer coarse,
      ProductQuantizer pq, RawVectors raw) {
    this(spec, similarity, coarse, pq, raw, null);
  }

  /**
   * An empty index over trained quantizers.
   *
   * @param coarse the trained coarse quantizer, or null when the spec has no IVF
   * @param raw where full vectors go for re-ranking, required with {@code RFlat}
   * @param rotation the trained OPQ rotation, required with {@code OPQ}; the coarse quantizer and
   *     the PQ were trained on rotated vectors
   */
  public IvfPqIndex(IndexSpec spec, Similarity similarity, CoarseQuantizer coarse,
      ProductQuantizer pq, RawVectors raw, OpqRotation rotation) {
    this.spec = Objects.requireNonNull(spec, "spec");
    this.similarity = similarity;
    this.pq = Objects.requireNonNull(pq, "pq");
    this.dim = pq.dimension();
    this.innerProduct = similarity != Similarity.EUCLIDEAN;
    if (spec.hasIvf() != (coarse != null)) {
      throw new IllegalArgumentException("spec " + spec + " and the coarse quantizer disagree");
    }
    if (coarse != null && (coarse.dimension() != dim || coarse.nlist() != spec.nlist())) {
      throw new IllegalArgumentException("coarse quantizer is " + coarse.nlist() + " x "
          + coarse.dimension() + ", spec wants " + spec.nlist() + " x " + dim);
    }
    if (pq.m() != spec.pqM() || pq.nbits() != spec.nbits()) {
      throw new IllegalArgumentException("product quantizer is PQ" + pq.m() + "x" + pq.nbits()
          + ", spec wants " + spec);
    }
    if (spec.refineFlat() != (raw != null)) {
      throw new IllegalArgumentException("RFlat needs a raw vector store, and only RFlat uses one");
    }
    if ((spec.opqM() > 0) != (rotation != null)) {
      throw new IllegalArgumentException("OPQ needs a rotation, and only OPQ uses one");
    }
    if (rotation != null && rotation.dimension() != dim) {
      throw new IllegalArgumentException("rotation is " + rotation.dimension() + " x "
          + rotation.dimension() + ", the product quantizer has dimension " + dim);
    }
    this.rotation = rotation;
    this.coarse = coarse;
    this.nlists = coarse == null ? 1 : coarse.nlist();
    this.m = pq.m();
    this.ksub = pq.ksub();
    this.fastScan = spec.fastScan();
    this.residual = spec.residual() && coarse != null;
    this.raw = raw;
    this.reranker = raw == null ? null : new Reranker(raw, rotation, similarity, dim);
    this.lists = new HeapInvertedLists(nlists, m, fastScan);
  }

  @Override
  public IndexSpec spec() {
    return spec;
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
    return pq.codeSize() + (raw != null ? 4L * dim : 0);
  }

  public int nlist() {
    return nlists;
  }

  /** Vectors in list {@code list}. */
  public int listSize(int list) {
    return lists.listSize(list);
  }

  /** Id at position {@code pos} of list {@code list} (for tests and tools). */
  int idAt(int list, int pos) {
    return lists.idAt(list, pos);
  }

  /** Code of sub-quantizer {@code sub} at position {@code pos} of list {@code list}. */
  int codeAt(int list, int pos, int sub) {
    return lists.codeAt(list, pos, sub);
  }

  /** The inverted lists (the format writes and restores them). */
  HeapInvertedLists lists() {
    return lists;
  }

  /** Raw vector store for RFlat, or null. */
  RawVectors raw() {
    return raw;
  }

  Reranker reranker() {
    return reranker;
  }

  /** Replaces the lists wholesale (loading a saved index); arrays are taken, not copied. */
  void restoreLists(int[][] ids, byte[][] codes, int[] sizes, int total) {
    lists.restore(ids, codes, sizes);
    size = total;
  }

  CoarseQuantizer coarse() {
    return coarse;
  }

  /** The OPQ rotation, or null. */
  OpqRotation rotation() {
    return rotation;
  }

  ProductQuantizer pq() {
    return pq;
  }

  /** A scanner for this index's codes keeping the best {@code candidates} of a query. */
  ListScanner newScanner(int candidates) {
    return fastScan
        ? new FastScanListScanner(pq, innerProduct, lists, candidates, raw != null)
        : new Pq8ListScanner(pq, innerProduct, lists, candidates, raw != null);
  }

  @Override
  public void add(FloatMatrix vectors) {
    if (vectors.dim() != dim) {
      throw new IllegalArgumentException(
          "vectors: vector dimensions differ: " + vectors.dim() + "!=" + dim);
    }
    int n = vectors.rows();
    float[] in = vectors.data();
    // Validate everything first: a rejected batch must add nothing.
    for (int i = 0; i < n; i++) {
      VectorUtil.checkFinite(in, i * dim, dim, "vectors", i);
      if (similarity.normalizes()) {
        if (!(VectorUtil.squaredNorm(in, i * dim, dim) > 0)) {
          throw new IllegalArgumentException(
              "vectors[" + i + "] cannot be normalized for cosine similarity: its norm is 0");
        }
      }
    }
    // Chunks bound the working copies (normalized, rotated, residuals) whatever n is.
    for (int from = 0; from < n; from += ADD_CHUNK) {
      addChunk(in, from, Math.min(n, from + ADD_CHUNK));
    }
  }

  /** Rows per step of {@link #add}: three working copies of 64k x 384 floats are 300 MB. */
  static final int ADD_CHUNK = 1 << 16;

  private void addChunk(float[] in, int from, int to) {
    int n = to - from;
    float[] x = java.util.Arrays.copyOfRange(in, from * dim, to * dim);
    if (similarity.normalizes()) {
      for (int i = 0; i < n; i++) {
        VectorUtil.normalize(x, i * dim, dim, "vectors", from + i);
      }
    }
    int threads = Runtime.getRuntime().availableProcessors();
    if (rotation != null) {
      x = rotation.applyAll(new FloatMatrix(n, dim, x), threads).data();
    }
    int[] lists = coarse == null ? new int[n] : coarse.assignAll(new FloatMatrix(n, dim, x), threads);
    float[] res = residual ? new float[x.length] : x;
    if (residual) {
      float[] c = coarse.centroids().data();
      for (int i = 0; i < n; i++) {
        int list = lists[i];
        for (int j = 0; j < dim; j++) {
          res[i * dim + j] = x[i * dim + j] - c[list * dim + j];
        }
      }
    }
    byte[] codes = pq.encodeAll(new FloatMatrix(n, dim, res), threads);
    if (raw != null) {
      raw.add(x, n);
    }
    for (int i = 0; i < n; i++) {
      this.lists.append(lists[i], size + i, codes, i * m);
    }
    size += n;
  }


  @Override
  public FloatMatrix prepareQueries(FloatMatrix queries) {
    FloatMatrix prepared = VectorUtil.prepareQueries(queries, dim, similarity);
    // The scan runs in the rotated space. One thread: batches are cut into ranges by the caller.
    return rotation == null ? prepared : rotation.applyAll(prepared, 1);
  }

  /** Polled every {@value #CANCEL_CHECK_LISTS} lists a query scans, and between lists in a batch. */
  @Override
  public boolean pollsCancellation() {
    return true;
  }

  /**
   * When the re-rank store holds the original vectors ({@link RawVectors#original()}),
   * re-ranking scores against the context's originals directly, sparing the inverse OPQ
   * rotation of every query; the cancellation is polled every {@value #CANCEL_CHECK_LISTS} lists
   * a query scans, so a deadline stops even one query with a large nprobe mid-scan.
   */
  @Override
  public void search(SearchContext ctx) {
    FloatMatrix queries = ctx.queries();
    FloatMatrix originals = ctx.originals();
    if (queries.dim() != dim) {
      throw new IllegalArgumentException(
          "queries: vector dimensions differ: " + queries.dim() + "!=" + dim);
    }
    int from = ctx.from();
    int to = ctx.to();
    SearchParams params = ctx.params();
    AcceptOrds accept = ctx.accept();
    BooleanSupplier cancelled = ctx.cancelled();
    SearchResults out = ctx.results();
    int k = out.k();
    if (coarse != null && params.nprobe() > nlists) {
      throw new IllegalArgumentException(
          "nprobe " + params.nprobe() + " exceeds nlist " + nlists);
    }
    int nprobe = Math.min(params.nprobe(), nlists);
    int candidates = raw != null ? Math.multiplyExact(k, params.rerank()) : k;
    // A filter's starved queries are not served by scanning past nprobe here: FilterPlan widens
    // nprobe by the filter's selectivity and FilteredSearch searches short queries again, wider
    // (docs/bench/2026-12-07/search-constants.md: lining lists up here found nothing more).
    IvfScratch s = scratch(ctx, nprobe, candidates, k);
    try {
      // In parts, so that a search's per-query states stay within LIST_MAJOR_STATE_BYTES.
      int part = Math.max(LIST_MAJOR_MIN_QUERIES, LIST_MAJOR_STATE_BYTES / queryStateBytes());
      if (listMajor(Math.min(to - from, part), nprobe, accept)) {
        for (int b = from; b < to; b += part) {
          searchListMajor(queries, originals, b, Math.min(to, b + part), nprobe, cancelled, s,
              out);
        }
        return;
      }
      for (int b = from; b < to; b += PROBE_BATCH) {
        int e = Math.min(to, b + PROBE_BATCH);
        if (coarse != null) {
          coarse.probeBatch(queries, b, e, s.probeHeaps, s.probe);
        }
        for (int q = b; q < e; q++) {
          int probed = 1;
          if (coarse != null) {
            // Best lists first: they fill the top-k early, so the threshold is tight sooner.
            probed = s.probeHeaps[q - b].drainBestFirst(s.probeIds, s.probeScores, 0);
          }
          searchOne(queries.data(), queries.offset(q), probed, accept, cancelled, s);
          finish(queries, originals, q, s.one.heap, s, out);
        }
      }
    } finally {
      ctx.count(s.scanned, s.exact);
      s.scanned = 0;
      s.exact = 0;
    }
  }

  /**
   * The context's buffers if they fit the call, else idle ones of this index that do, else new
   * ones, left in the context for its next call: a server answers one query per call, and the
   * tables alone are {@code m x 256} floats (48 KB at m=48).
   */
  private IvfScratch scratch(SearchContext ctx, int nprobe, int candidates, int k) {
    if (ctx.scratch() instanceof IvfScratch s && s.fits(this, nprobe, candidates, k)) {
      return s;
    }
    IvfScratch s = idle.poll();
    if (s == null || !s.fits(this, nprobe, candidates, k)) {
      s = new IvfScratch(this, nprobe, candidates, k);
    }
    ctx.scratch(s, releaseScratch);
    return s;
  }

  /**
   * Queries a call must hold for the list-major scan. At 1,000 queries and nprobe 16 over 4,096
   * lists, a list is scanned for four queries on average, its codes read from memory once.
   */
  static final int LIST_MAJOR_MIN_QUERIES = 64;

  /**
   * Whether a batch is scanned list by list ({@link #searchListMajor}): the queries share one
   * table across lists (inner product, or no residual), no filter widens the probe, and the
   * codes are too many for the caches, so that reading a list once for all its queries pays
   * for visiting each query's lists in list order rather than best first.
   */
  private boolean listMajor(int queries, int nprobe, AcceptOrds accept) {
    long codeBytes = (long) size * lists.blockBytes() / FastScanLayout.BLOCK;
    return coarse != null && sharedLut() && accept == null
        && queries >= LIST_MAJOR_MIN_QUERIES
        && (long) queries * nprobe >= (long) LIST_MAJOR_MIN_SHARING * nlists
        && codeBytes >= listMajorMinCodeBytes
        // Each query that shares a list brings its byte table back into the cache: reading the
        // list once pays only when a list's codes outweigh one query's table.
        && codeBytes / nlists >= (long) m * ksub;
  }

  /**
   * Queries a list must serve on average (queries x nprobe / nlist) for the list-major scan: with
   * fewer, lists are rarely shared and visiting them in list order only costs. How it was
   * chosen, and where list-major was measured to lose: docs/bench/2026-12-07/search-constants.md.
   */
  static final int LIST_MAJOR_MIN_SHARING = 2;

  /**
   * Bytes of per-query state a thread keeps for the list-major scan: 1,000 queries at 4-bit m=48
   * (4 KB each), 200 at 8-bit m=32 (its float and byte tables, 40 KB).
   */
  static final int LIST_MAJOR_STATE_BYTES = 8 << 20;

  /** One query's tables in a {@link QueryScan}: the float table and its byte form. */
  private int queryStateBytes() {
    return m * ksub * (Float.BYTES + 1) + 1024;
  }

  private long listMajorMinCodeBytes = LIST_MAJOR_MIN_CODE_BYTES;

  /** Sets the code size from which batches are scanned list by list; tests use both paths. */
  void listMajorMinCodeBytes(long bytes) {
    listMajorMinCodeBytes = bytes;
  }

  /**
   * Codes an index must hold for the list-major scan: a few times a core's L2. Measured on Zen 4
   * (1 MB L2), IVF256,PQ48x4fs over 28,000 vectors (0.7 MB of codes): 20-35% slower list-major;
   * IVF4096,PQ48x4fs over 1M (24 MB): nprobe 64 +33%, nprobe 16 even (the coarse scan dominates).
   * The property {@code codebook.listMajorMinBytes} overrides it, for such measurements.
   */
  static final long LIST_MAJOR_MIN_CODE_BYTES =
      Long.getLong("codebook.listMajorMinBytes", 4L << 20);

  /**
   * Searches queries {@code [from, to)} list by list: every query's lists are probed and its
   * tables built first, the (query, list) pairs grouped by list, and each list probed by some
   * query scanned once for all of them in turn, its codes still in the cache for the next one.
   */
  private void searchListMajor(FloatMatrix queries, FloatMatrix originals, int from, int to,
      int nprobe, BooleanSupplier cancelled, IvfScratch s, SearchResults out) {
    int n = to - from;
    ListScanner[] qs = s.batch(n);
    int[] probeIds = s.batchProbeIds;
    float[] probeScores = s.batchProbeScores;
    int[] ends = s.listEnds;
    Arrays.fill(ends, 0);
    for (int b = from; b < to; b += PROBE_BATCH) {
      int e = Math.min(to, b + PROBE_BATCH);
      coarse.probeBatch(queries, b, e, s.probeHeaps, s.probe);
      for (int q = b; q < e; q++) {
        int at = (q - from) * nprobe;
        int got = s.probeHeaps[q - b].drainBestFirst(probeIds, probeScores, at);
        for (int p = at; p < at + got; p++) {
          ends[probeIds[p]]++;
        }
        Arrays.fill(probeIds, at + got, at + nprobe, -1); // only with NaN scores
        qs[q - from].setQuery(queries.data(), queries.offset(q));
      }
    }
    // Counting sort of the pairs by list: ends[l] becomes where list l's pairs start, then,
    // as they are placed, where they end.
    for (int l = 0, sum = 0; l < nlists; l++) {
      int c = ends[l];
      ends[l] = sum;
      sum += c;
    }
    int[] pairs = s.pairs;
    for (int j = 0; j < n * nprobe; j++) {
      if (probeIds[j] >= 0) {
        pairs[ends[probeIds[j]]++] = j;
      }
    }
    for (int l = 0, begin = 0; l < nlists; begin = ends[l], l++) {
      if (begin == ends[l]) {
        continue;
      }
      if (cancelled != null && cancelled.getAsBoolean()) {
        throw new CancellationException(
            "search cancelled after scanning " + l + " of " + nlists + " lists for a batch");
      }
      s.scanned += (long) lists.listSize(l) * (ends[l] - begin);
      for (int t = begin; t < ends[l]; t++) {
        int j = pairs[t];
        qs[j / nprobe].scanListDeferred(l, listBias(probeScores[j]), null, s.sums);
      }
    }
    for (int i = 0; i < n; i++) {
      qs[i].rescoreCandidates();
      finish(queries, originals, from + i, qs[i].heap, s, out);
    }
  }

  /** Scans the {@code probed} lists lined up in {@code s}, best first (at most nprobe). */
  private void searchOne(float[] q, int qOff, int probed, AcceptOrds accept,
      BooleanSupplier cancelled, IvfScratch s) {
    ListScanner qs = s.one;
    boolean sharedLut = sharedLut();
    if (sharedLut) {
      qs.setQuery(q, qOff);
    } else {
      qs.startPerListQuery();
    }
    for (int p = 0; p < probed; p++) {
      if (cancelled != null && (p + 1) % CANCEL_CHECK_LISTS == 0 && cancelled.getAsBoolean()) {
        throw new CancellationException(
            "search cancelled after scanning " + p + " lists of a query");
      }
      int list = coarse == null ? 0 : s.probeIds[p];
      float bias = listBias(s.probeScores[p]);
      s.scanned += lists.listSize(list);
      if (sharedLut) {
        qs.scanListDeferred(list, bias, accept, s.sums);
      } else {
        float[] c = coarse.centroids().data();
        for (int j = 0; j < dim; j++) {
          s.residualQuery[j] = q[qOff + j] - c[list * dim + j];
        }
        qs.setListQuery(s.residualQuery, 0);
        qs.scanList(list, bias, accept, s.sums);
      }
    }
    if (sharedLut) {
      qs.rescoreCandidates();
    }
  }

  /**
   * Whether one table serves a query in every list: inner product (a residual's score is the
   * vector's plus the list's, {@link #listBias}) or codes without a residual.
   */
  private boolean sharedLut() {
    return innerProduct || !residual;
  }

  /**
   * What a list adds to its vectors' table scores: the query-centroid score, for inner product
   * over residuals.
   */
  private float listBias(float probeScore) {
    return residual && innerProduct ? probeScore : 0f;
  }

  /** Query {@code q}'s results from its scan's {@code heap}, re-ranked with {@code RFlat}. */
  private void finish(FloatMatrix queries, FloatMatrix originals, int q, TopK heap, IvfScratch s,
      SearchResults out) {
    if (reranker == null) {
      out.fill(q, heap);
      return;
    }
    if (originals != null && reranker.scoresOriginals()) {
      s.exact += reranker.rerankOriginal(originals.data(), originals.offset(q), heap, s.rerank);
    } else {
      s.exact += reranker.rerank(queries.data(), queries.offset(q), heap, s.rerank);
    }
    out.fill(q, s.rerank.reranked);
  }

  /** Lists a query scans between two polls of its call's cancellation. */
  public static final int CANCEL_CHECK_LISTS = 32;

  /** Queries probed together: the coarse scan is tiled four queries at a time. */
  static final int PROBE_BATCH = 16;
}
