package dev.codebook.index.ivf;

import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.VectorIndex;
import dev.codebook.index.quant.OpqRotation;
import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.search.AcceptOrds;
import dev.codebook.index.search.KthLargest;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.search.ScanStats;
import dev.codebook.index.search.TopK;
import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import dev.codebook.index.vector.VectorUtil;
import java.util.Arrays;
import java.util.Objects;

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
 * <p>Codes are stored in blocks of 64 vectors laid out for a register per sub-quantizer: 4-bit
 * codes in {@link FastScanLayout}, 8-bit codes in {@link FastScan8Layout}. A byte-quantized table
 * ({@link QuantizedLut}) filters 64 vectors per kernel call ({@link KernelSupport#fastScan4},
 * {@link KernelSupport#fastScan8}: table lookups are byte permutes, sums 16-bit lanes), and the
 * few that may enter the top-k are re-scored with the float table, so results are exactly those
 * of plain float ADC over the same codes ({@link KernelSupport#adc8}, FAISS's scan) at a fraction
 * of its cost.
 *
 * <p>With {@code OPQ}, vectors and queries are rotated by an {@link OpqRotation} as they come in
 * (after normalization for cosine), and everything after that, the coarse quantizer, PQ and the
 * raw vectors of {@code RFlat}, lives in the rotated space: a rotation keeps dot products and L2
 * distances, so scores are those of the original vectors up to rounding.
 *
 * <p>With {@code RFlat}, the best {@code k * rerank} candidates are re-scored exactly against the
 * full vectors. Searches may run concurrently; {@link #add} may not run with them.
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
  private final int blockBytes; // one block of 64 vectors' codes

  private final int[][] listIds;
  private final byte[][] listCodes;
  private final int[] listSizes;
  private final RawVectors raw; // null without RFlat
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
    this.blockBytes = fastScan ? FastScanLayout.blockBytes(m) : FastScan8Layout.blockBytes(m);
    this.raw = raw;
    this.listIds = new int[nlists][];
    this.listCodes = new byte[nlists][];
    this.listSizes = new int[nlists];
    Arrays.fill(listIds, new int[0]);
    Arrays.fill(listCodes, new byte[0]);
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
    return listSizes[list];
  }

  /** Id at position {@code pos} of list {@code list} (for tests and tools). */
  int idAt(int list, int pos) {
    return listIds[list][pos];
  }

  /** Code of sub-quantizer {@code sub} at position {@code pos} of list {@code list}. */
  int codeAt(int list, int pos, int sub) {
    int block = pos / FastScanLayout.BLOCK * blockBytes;
    return fastScan
        ? FastScanLayout.get(listCodes[list], block, pos % FastScanLayout.BLOCK, sub)
        : FastScan8Layout.get(listCodes[list], block, pos % FastScan8Layout.BLOCK, sub);
  }

  /** Raw vector store for RFlat, or null. */
  RawVectors raw() {
    return raw;
  }

  /** Replaces the lists wholesale (loading a saved index); arrays are taken, not copied. */
  void restoreLists(int[][] ids, byte[][] codes, int[] sizes, int total) {
    if (ids.length != nlists || codes.length != nlists || sizes.length != nlists) {
      throw new IllegalArgumentException("expected " + nlists + " lists");
    }
    for (int l = 0; l < nlists; l++) {
      listIds[l] = ids[l];
      listCodes[l] = codes[l];
      listSizes[l] = sizes[l];
    }
    size = total;
  }

  /** The stored code bytes of a list (capacity may exceed what {@link #listSize} uses). */
  byte[] listCodes(int list) {
    return listCodes[list];
  }

  /** Bytes of codes used by {@code n} vectors in one list. */
  int codeBytes(int n) {
    return (n + FastScanLayout.BLOCK - 1) / FastScanLayout.BLOCK * blockBytes;
  }

  /**
   * 8-bit codes stored contiguously ({@code m} bytes a vector, as format versions before 2 did)
   * rearranged into {@link FastScan8Layout} blocks.
   */
  static byte[] blockContiguous8(byte[] contiguous, int n, int m) {
    int blocks = (n + FastScan8Layout.BLOCK - 1) / FastScan8Layout.BLOCK;
    byte[] out = new byte[Math.max(1, blocks * FastScan8Layout.blockBytes(m))];
    for (int i = 0; i < n; i++) {
      int block = i / FastScan8Layout.BLOCK * FastScan8Layout.blockBytes(m);
      for (int s = 0; s < m; s++) {
        FastScan8Layout.set(out, block, i % FastScan8Layout.BLOCK, s, contiguous[i * m + s] & 0xFF);
      }
    }
    return out;
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
      append(lists[i], size + i, codes, i * m);
    }
    size += n;
  }


  private void append(int list, int id, byte[] codes, int codeOffset) {
    int pos = listSizes[list];
    if (pos == listIds[list].length) {
      int cap = Math.max(FastScanLayout.BLOCK, pos + (pos >> 1));
      cap = (cap + FastScanLayout.BLOCK - 1) / FastScanLayout.BLOCK * FastScanLayout.BLOCK;
      listIds[list] = Arrays.copyOf(listIds[list], cap);
      long codeCap = (long) cap / FastScanLayout.BLOCK * blockBytes;
      listCodes[list] = Arrays.copyOf(listCodes[list], Math.toIntExact(codeCap));
    }
    listIds[list][pos] = id;
    int block = pos / FastScanLayout.BLOCK * blockBytes;
    int v = pos % FastScanLayout.BLOCK;
    for (int s = 0; s < m; s++) {
      if (fastScan) {
        FastScanLayout.set(listCodes[list], block, v, s, codes[codeOffset + s]);
      } else {
        FastScan8Layout.set(listCodes[list], block, v, s, codes[codeOffset + s] & 0xFF);
      }
    }
    listSizes[list] = pos + 1;
  }

  @Override
  public FloatMatrix prepareQueries(FloatMatrix queries) {
    FloatMatrix prepared = VectorUtil.prepareQueries(queries, dim, similarity);
    // The scan runs in the rotated space. One thread: batches are cut into ranges by the caller.
    return rotation == null ? prepared : rotation.applyAll(prepared, 1);
  }


  @Override
  public void search(FloatMatrix queries, int from, int to, SearchParams params,
      AcceptOrds accept, SearchResults out) {
    search(queries, null, from, to, params, accept, null, out);
  }

  /** Polled every {@value #CANCEL_CHECK_LISTS} lists a query scans, and between lists in a batch. */
  @Override
  public boolean pollsCancellation() {
    return true;
  }

  /**
   * When the re-rank store holds the original vectors ({@link RawVectors#original()}),
   * re-ranking scores against {@code originals} directly, sparing the inverse OPQ rotation of
   * every query; {@code cancelled} is polled every {@value #CANCEL_CHECK_LISTS} lists a query
   * scans, so a deadline stops even one query with a large nprobe mid-scan.
   */
  @Override
  public void search(FloatMatrix queries, FloatMatrix originals, int from, int to,
      SearchParams params, AcceptOrds accept, java.util.function.BooleanSupplier cancelled,
      SearchResults out) {
    if (originals != null && (originals.rows() != queries.rows() || originals.dim() != dim)) {
      throw new IllegalArgumentException("originals: " + originals.rows() + " x "
          + originals.dim() + " for " + queries.rows() + " x " + dim + " prepared queries");
    }
    int k = out.k();
    if (coarse != null && params.nprobe() > nlists) {
      throw new IllegalArgumentException(
          "nprobe " + params.nprobe() + " exceeds nlist " + nlists);
    }
    int nprobe = Math.min(params.nprobe(), nlists);
    int candidates = raw != null ? Math.multiplyExact(k, params.rerank()) : k;
    // With a filter, lists past nprobe are lined up too: a restrictive filter leaves too few
    // survivors in the nprobe best lists, and the scan goes on down the ranking until it has k.
    int lined = accept == null ? nprobe
        : Math.min(nlists, Math.multiplyExact(nprobe, FILTER_PROBE_FACTOR));
    Scratch s = scratch(lined, candidates, k);
    s.accept = accept;
    s.cancelled = cancelled;
    try {
      // In parts, so that a thread's per-query states stay within LIST_MAJOR_STATE_BYTES.
      int part = Math.max(LIST_MAJOR_MIN_QUERIES, LIST_MAJOR_STATE_BYTES / queryStateBytes());
      if (listMajor(Math.min(to - from, part), nprobe, accept)) {
        for (int b = from; b < to; b += part) {
          searchListMajor(queries, originals, b, Math.min(to, b + part), nprobe, s, out);
        }
        return;
      }
      for (int b = from; b < to; b += PROBE_BATCH) {
        int e = Math.min(to, b + PROBE_BATCH);
        if (coarse != null) {
          coarse.probeBatch(queries, b, e, s.probeHeaps, s.probeScratch);
        }
        for (int q = b; q < e; q++) {
          int probed = 1;
          if (coarse != null) {
            // Best lists first: they fill the top-k early, so the threshold is tight sooner.
            probed = s.probeHeaps[q - b].drainBestFirst(s.probeIds, s.probeScores, 0);
          }
          searchOne(queries.data(), queries.offset(q), nprobe, probed, s);
          finish(queries, originals, q, s.one.heap, s, out);
        }
      }
    } finally {
      s.accept = null; // the filter belongs to the call
      s.cancelled = null;
      ScanStats.add(s.scanned, s.exact);
      s.scanned = 0;
      s.exact = 0;
    }
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
    return coarse != null && sharedLut() && accept == null
        && queries >= LIST_MAJOR_MIN_QUERIES
        && (long) queries * nprobe >= (long) LIST_MAJOR_MIN_SHARING * nlists
        && (long) size * blockBytes / FastScanLayout.BLOCK >= listMajorMinCodeBytes;
  }

  /**
   * Queries a list must serve on average (queries x nprobe / nlist) for the list-major scan: with
   * fewer, lists are rarely shared and visiting them in list order only costs. Measured on 1M x
   * 384, IVF4096,PQ48x4fs, 1,000 queries, one thread, list-major against query by query: nprobe 2
   * (0.5 a list) 19.8k against 22.2k QPS, nprobe 4 18.3k against 20.3k, nprobe 16 (4) even,
   * nprobe 64 (16) 11.9k against 9.0k.
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
      int nprobe, Scratch s, SearchResults out) {
    int n = to - from;
    QueryScan[] qs = s.batch(n);
    int[] probeIds = s.batchProbeIds;
    float[] probeScores = s.batchProbeScores;
    int[] ends = s.listEnds;
    Arrays.fill(ends, 0);
    for (int b = from; b < to; b += PROBE_BATCH) {
      int e = Math.min(to, b + PROBE_BATCH);
      coarse.probeBatch(queries, b, e, s.probeHeaps, s.probeScratch);
      for (int q = b; q < e; q++) {
        int at = (q - from) * nprobe;
        int got = s.probeHeaps[q - b].drainBestFirst(probeIds, probeScores, at);
        for (int p = at; p < at + got; p++) {
          ends[probeIds[p]]++;
        }
        Arrays.fill(probeIds, at + got, at + nprobe, -1); // only with NaN scores
        qs[q - from].startShared(queries.data(), queries.offset(q));
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
      if (s.cancelled != null && s.cancelled.getAsBoolean()) {
        throw new java.util.concurrent.CancellationException(
            "search cancelled after scanning " + l + " of " + nlists + " lists for a batch");
      }
      s.scanned += (long) listSizes[l] * (ends[l] - begin);
      for (int t = begin; t < ends[l]; t++) {
        int j = pairs[t];
        scanListDeferred(l, listBias(probeScores[j]), qs[j / nprobe], s);
      }
    }
    for (int i = 0; i < n; i++) {
      rescoreCandidates(qs[i]);
      finish(queries, originals, from + i, qs[i].heap, s, out);
    }
  }

  /** Query {@code q}'s results from its scan's {@code heap}, re-ranked with {@code RFlat}. */
  private void finish(FloatMatrix queries, FloatMatrix originals, int q, TopK heap, Scratch s,
      SearchResults out) {
    if (raw == null) {
      out.fill(q, heap);
      return;
    }
    if (originals != null && raw.original()) {
      rerankOriginal(originals.data(), originals.offset(q), heap, s);
    } else {
      rerank(queries.data(), queries.offset(q), heap, s);
    }
    out.fill(q, s.reranked);
  }

  /**
   * With a filter, how many times {@code nprobe} lists a query may scan before it settles for
   * fewer than k accepted results. Filters too restrictive for this are better served by scoring
   * the accepted vectors directly, which callers choose by the filter's cardinality.
   */
  public static final int FILTER_PROBE_FACTOR = 8;

  /** Lists a query scans between two polls of its call's cancellation. */
  public static final int CANCEL_CHECK_LISTS = 32;

  /** Queries probed together: the coarse scan is tiled four queries at a time. */
  static final int PROBE_BATCH = 16;

  /**
   * This thread's buffers if they fit the call, else new ones kept for the next: a server answers
   * one query per call, and the tables alone are {@code m x 256} floats (48 KB at m=48).
   */
  private Scratch scratch(int nprobe, int candidates, int k) {
    Scratch s = scratch.get();
    if (s == null || s.nprobe != nprobe || s.candidates != candidates || s.k != k) {
      s = new Scratch(nprobe, candidates, k);
      scratch.set(s);
    }
    return s;
  }

  private final ThreadLocal<Scratch> scratch = new ThreadLocal<>();

  /**
   * One query's scan state: its float table and the quantized one, the bounds and deferred
   * candidates of the fast-scan, and the heap of its best candidates.
   */
  private final class QueryScan {
    final float[] lut = new float[m * ksub];
    final QuantizedLut qlut = new QuantizedLut(m, ksub);
    /** Lower bounds of the deferred scan's survivors: the k-th is the bar candidates must clear. */
    final KthLargest bounds;
    final TopK heap;
    /** Deferred candidates: id, list, code position, upper bound and list bias. */
    int[] ids = new int[64];
    int[] lists = new int[64];
    int[] ats = new int[64];
    float[] upper = new float[64];
    float[] biases = new float[64];
    int count;

    QueryScan(int candidates) {
      bounds = new KthLargest(candidates);
      heap = new TopK(candidates);
    }

    /** Ready for a query with one table for every list: built, quantized, bounds emptied. */
    void startShared(float[] q, int qOff) {
      heap.clear();
      buildLut(q, qOff, lut);
      qlut.quantize(lut);
      bounds.clear();
      count = 0;
    }

    void addCandidate(int id, int list, int at, float up, float bias) {
      if (count == ids.length) {
        compactCandidates();
      }
      ids[count] = id;
      lists[count] = list;
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
          lists[kept] = lists[i];
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
        lists = Arrays.copyOf(lists, cap);
        ats = Arrays.copyOf(ats, cap);
        upper = Arrays.copyOf(upper, cap);
        biases = Arrays.copyOf(biases, cap);
      }
    }
  }

  /** Per-call buffers, reused across the queries of a range: nothing is allocated per code. */
  private final class Scratch {
    final int nprobe;
    final int candidates;
    final int k;
    /** The state of the query being scanned, one at a time. */
    final QueryScan one;
    final TopK reranked;
    final float[] residualQuery = new float[dim];
    final float[] row = new float[dim];
    final float[] unrotatedQuery = new float[dim];
    /** Codes scanned and candidates re-ranked by this thread's current call, for ScanStats. */
    long scanned;
    long exact;
    final short[] sums = new short[FastScanLayout.BLOCK];
    /** The list-major scan's states, probes and (query, probe) pairs grouped by list. */
    QueryScan[] batch = new QueryScan[0];
    int[] batchProbeIds = new int[0];
    float[] batchProbeScores = new float[0];
    int[] pairs = new int[0];
    int[] listEnds;

    /** States for {@code n} queries and room for their {@code n * nprobe} probes. */
    QueryScan[] batch(int n) {
      if (batch.length < n) {
        int old = batch.length;
        batch = Arrays.copyOf(batch, n);
        for (int i = old; i < n; i++) {
          batch[i] = new QueryScan(candidates);
        }
      }
      int pairCount = Math.multiplyExact(n, nprobe);
      if (pairs.length < pairCount) {
        batchProbeIds = new int[pairCount];
        batchProbeScores = new float[pairCount];
        pairs = new int[pairCount];
      }
      if (listEnds == null) {
        listEnds = new int[nlists];
      }
      return batch;
    }

    final int[] candidateIds;
    final float[] candidateScores;
    final int[] probeIds;
    final float[] probeScores;

    final TopK[] probeHeaps = new TopK[PROBE_BATCH];
    final float[] probeScratch = new float[4 * nlists];
    AcceptOrds accept;
    java.util.function.BooleanSupplier cancelled;

    Scratch(int nprobe, int candidates, int k) {
      this.nprobe = nprobe;
      this.candidates = candidates;
      this.k = k;
      for (int i = 0; i < PROBE_BATCH; i++) {
        probeHeaps[i] = new TopK(nprobe);
      }
      probeIds = new int[nprobe];
      probeScores = new float[nprobe];
      one = new QueryScan(candidates);
      reranked = raw != null ? new TopK(k) : null;
      candidateIds = new int[candidates];
      candidateScores = new float[candidates];
    }
  }

  /**
   * Scans the {@code nprobe} best of the {@code lined} lists lined up in {@code s}, then, while
   * fewer than the wanted number of candidates passed the filter, the next ones.
   */
  private void searchOne(float[] q, int qOff, int nprobe, int lined, Scratch s) {
    QueryScan qs = s.one;
    boolean sharedLut = sharedLut();
    if (sharedLut) {
      qs.startShared(q, qOff);
    } else {
      qs.heap.clear();
    }
    // Under a filter, lists past nprobe are scanned until enough vectors passed it.
    for (int p = 0; p < lined && (p < nprobe || !(sharedLut ? qs.bounds.isFull() : qs.heap.isFull()));
        p++) {
      if (s.cancelled != null && (p + 1) % CANCEL_CHECK_LISTS == 0
          && s.cancelled.getAsBoolean()) {
        throw new java.util.concurrent.CancellationException(
            "search cancelled after scanning " + p + " lists of a query");
      }
      int list = coarse == null ? 0 : s.probeIds[p];
      float bias = listBias(s.probeScores[p]);
      s.scanned += listSizes[list];
      if (!sharedLut) {
        float[] c = coarse.centroids().data();
        for (int j = 0; j < dim; j++) {
          s.residualQuery[j] = q[qOff + j] - c[list * dim + j];
        }
        buildLut(s.residualQuery, 0, qs.lut);
        qs.qlut.quantize(qs.lut);
      }
      if (sharedLut) {
        scanListDeferred(list, bias, qs, s);
      } else {
        scanList(list, bias, qs, s);
      }
    }
    if (sharedLut) {
      rescoreCandidates(qs);
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

  /** The float ADC table: dot products for inner product, negated squared distances for L2. */
  private void buildLut(float[] q, int qOff, float[] lut) {
    pq.computeScoreTable(q, qOff, lut, innerProduct);
  }

  /**
   * Scans one list with a table of its own (L2 over residuals): the byte-table kernel filters each
   * block, and survivors are re-scored with the float table right away, while it is current.
   */
  private void scanList(int list, float bias, QueryScan qs, Scratch s) {
    KernelSupport k = VectorKernels.support();
    int n = listSizes[list];
    byte[] codes = listCodes[list];
    int[] ids = listIds[list];
    float[] lut = qs.lut;
    TopK heap = qs.heap;
    int pairs = FastScanLayout.pairs(m);
    byte[] tables = qs.qlut.tables();
    int threshold = qs.qlut.threshold(heap.threshold(), bias);
    for (int b = 0, blockOff = 0; b < n; b += FastScanLayout.BLOCK, blockOff += blockBytes) {
      long mask = fastScan
          ? k.fastScan4(codes, blockOff, pairs, tables, threshold, s.sums)
          : k.fastScan8(codes, blockOff, m, tables, threshold, s.sums);
      int valid = n - b;
      if (valid < FastScanLayout.BLOCK) {
        mask &= (1L << valid) - 1;
      }
      while (mask != 0) {
        int v = Long.numberOfTrailingZeros(mask);
        mask &= mask - 1;
        if (s.accept != null && !s.accept.accept(ids[b + v])) {
          continue;
        }
        int at = blockOff + FastScanLayout.position(v);
        float score = bias + (fastScan ? rescore(codes, at, lut) : rescore8(codes, at, lut));
        if (heap.offer(ids[b + v], score)) {
          threshold = qs.qlut.threshold(heap.threshold(), bias);
        }
      }
    }
  }

  /**
   * Scans one list under the query's one table, deferring float scores: each survivor's byte sum
   * bounds its score from both sides ({@link QuantizedLut#lowerBound}), the k-th largest lower
   * bound ({@link KthLargest}) sets the bar, and survivors whose upper bound clears it are kept
   * as candidates, re-scored once every list is scanned ({@link #rescoreCandidates}). Most of the vectors that enter a
   * top-k during a scan leave it again; they never get a float score.
   */
  private void scanListDeferred(int list, float bias, QueryScan qs, Scratch s) {
    KernelSupport k = VectorKernels.support();
    int n = listSizes[list];
    byte[] codes = listCodes[list];
    int[] ids = listIds[list];
    KthLargest bounds = qs.bounds;
    QuantizedLut ql = qs.qlut;
    short[] sums = s.sums;
    int pairs = FastScanLayout.pairs(m);
    byte[] tables = ql.tables();
    float bar = bounds.bar();
    int threshold = ql.threshold(bar, bias);
    for (int b = 0, blockOff = 0; b < n; b += FastScanLayout.BLOCK, blockOff += blockBytes) {
      long mask = fastScan
          ? k.fastScan4(codes, blockOff, pairs, tables, threshold, sums)
          : k.fastScan8(codes, blockOff, m, tables, threshold, sums);
      int valid = n - b;
      if (valid < FastScanLayout.BLOCK) {
        mask &= (1L << valid) - 1;
      }
      // Sums at or above this are in the bounds already.
      int counted = Integer.MAX_VALUE;
      if (!bounds.isFull() && s.accept == null && Long.bitCount(mask) >= bounds.k()) {
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
        int id = ids[b + v];
        if (s.accept != null && !s.accept.accept(id)) {
          continue;
        }
        int sum = sums[v];
        float upper = ql.upperBound(sum, bias);
        if (upper < bar) {
          continue; // the bar rose since the kernel filtered this block
        }
        if (sum < counted && bounds.add(ql.lowerBound(sum, bias))) {
          bar = bounds.bar();
          threshold = ql.threshold(bar, bias);
        }
        qs.addCandidate(id, list, blockOff + FastScanLayout.position(v), upper, bias);
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
  private void rescoreCandidates(QueryScan qs) {
    float bar = qs.bounds.exactBar();
    if (raw != null) {
      // Re-ranked: the candidates only need choosing, and their byte sums (as upper bounds, bias
      // included) choose them almost as well as float scores. Measured on the real set,
      // IVF256,PQ48x4fs,RFlat rerank 4, nprobe 1 / 4 / 16: recall@10 0.4884 / 0.6840 / 0.7585
      // against 0.4884 / 0.6844 / 0.7592, batched 9-14% faster; 8-bit PQ32 +-0.0002, 3-4%.
      for (int i = 0; i < qs.count; i++) {
        if (qs.upper[i] >= bar) {
          qs.heap.offer(qs.ids[i], qs.upper[i]);
        }
      }
      return;
    }
    float[] lut = qs.lut;
    for (int i = 0; i < qs.count; i++) {
      if (qs.upper[i] >= bar) {
        byte[] codes = listCodes[qs.lists[i]];
        float score = qs.biases[i]
            + (fastScan ? rescore(codes, qs.ats[i], lut) : rescore8(codes, qs.ats[i], lut));
        qs.heap.offer(qs.ids[i], score);
      }
    }
  }

  /** The float ADC score of one vector of an 8-bit block, its byte at {@code at} in slab 0. */
  private float rescore8(byte[] codes, int at, float[] lut) {
    float s0 = 0, s1 = 0;
    int s = 0;
    for (int t = 0; s + 1 < m; s += 2, t += 512, at += 2 * FastScan8Layout.BLOCK) {
      s0 += lut[t + (codes[at] & 0xFF)];
      s1 += lut[t + 256 + (codes[at + FastScan8Layout.BLOCK] & 0xFF)];
    }
    if (s < m) {
      s0 += lut[s * 256 + (codes[at] & 0xFF)];
    }
    return s0 + s1;
  }

  /**
   * The float ADC score of one vector of a fast-scan block, its byte at {@code at} in the first
   * slab: one byte per pair of sub-quantizers, 64 bytes apart (see {@link FastScanLayout}).
   */
  private float rescore(byte[] codes, int at, float[] lut) {
    float s0 = 0, s1 = 0;
    int full = m >>> 1;
    for (int p = 0, t = 0; p < full; p++, t += 32, at += FastScanLayout.BLOCK) {
      int b = codes[at];
      s0 += lut[t + (b & 0x0F)];
      s1 += lut[t + 16 + ((b >>> 4) & 0x0F)];
    }
    if ((m & 1) != 0) {
      s0 += lut[full * 32 + (codes[at] & 0x0F)];
    }
    return s0 + s1;
  }

  /** Re-ranks the candidates against a prepared (normalized, rotated) query. */
  private void rerank(float[] q, int qOff, TopK candidates, Scratch s) {
    boolean original = raw.original();
    if (original && rotation != null) {
      // The store holds the original vectors: rotate the query back once (R is orthogonal, so
      // <R^T q, x> = <q, R x>) rather than each candidate forward.
      rotation.applyTranspose(q, qOff, s.unrotatedQuery, 0);
      q = s.unrotatedQuery;
      qOff = 0;
    }
    rescoreExactly(q, qOff, 1f, original && similarity.normalizes(), candidates, s);
  }

  /** Re-ranks the candidates of a raw query against a store of original vectors. */
  private void rerankOriginal(float[] q, int qOff, TopK candidates, Scratch s) {
    boolean cosine = similarity.normalizes();
    float scale = 1f;
    if (cosine) {
      double norm2 = VectorUtil.squaredNorm(q, qOff, dim);
      scale = norm2 > 0 ? (float) (1 / Math.sqrt(norm2)) : 0f;
    }
    rescoreExactly(q, qOff, scale, cosine, candidates, s);
  }

  /**
   * Scores the candidates exactly in id order into {@code s.reranked}: inner products times
   * {@code scale}, divided by the candidate's norm when {@code divideByNorm}; else minus the
   * squared L2 distance.
   */
  private void rescoreExactly(float[] q, int qOff, float scale, boolean divideByNorm,
      TopK candidates, Scratch s) {
    // In id order: the full vectors are read from a file by id, and ascending reads let the
    // hardware prefetcher and the page cache's read-ahead work.
    int n = candidates.idsUnordered(s.candidateIds);
    candidates.clear();
    Arrays.sort(s.candidateIds, 0, n);
    raw.prefetch(s.candidateIds, n);
    s.reranked.clear();
    s.exact += n;
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
  }
}
