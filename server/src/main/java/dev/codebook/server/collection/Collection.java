package dev.codebook.server.collection;

import dev.codebook.api.v1.AttributeValue;
import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.VectorIndex;
import dev.codebook.index.filter.AttributeIndex;
import dev.codebook.index.filter.Filter;
import dev.codebook.index.filter.FilteredSearch;
import dev.codebook.index.flat.FlatIndex;
import dev.codebook.index.search.AcceptOrds;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BooleanSupplier;
import org.roaringbitmap.RoaringBitmap;

/**
 * A named collection held in memory: its schema (dimension, similarity, index spec), the vectors
 * as upserted, and the index that answers searches.
 *
 * <p><b>Ordinals.</b> Every upserted vector gets the next dense ordinal; the value store, the
 * ordinal-to-id list, the attributes and the active index all share that numbering. Live ids map
 * to their ordinal. A delete, or an upsert of an id that exists, adds the old ordinal to a
 * {@link RoaringBitmap} of tombstones, and searches drop tombstoned ordinals from their results.
 *
 * <p><b>States.</b> While UNTRAINED the active index is a {@link FlatIndex} over every buffered
 * vector, so searches are exact. {@link #build} trains the collection's spec on a snapshot of the
 * live vectors without holding the lock (searches and writes go on against the previous index),
 * then, under the write lock, adds what was upserted meanwhile and swaps the new index in with a
 * fresh, compacted ordinal space: READY. New upserts are then encoded with the trained
 * quantizers.
 *
 * <p><b>Tombstones at search time.</b> The index skips tombstoned ordinals inside its scan
 * ({@link AcceptOrds}), so a search still returns {@code k} live vectors however many are
 * deleted. An untrained buffer is compacted once tombstones outnumber live vectors; a built
 * index is compacted by the next build.
 *
 * <p><b>Filters.</b> An {@link AttributeIndex} over the same ordinals turns a search's {@link
 * Filter} into a bitmap; without the tombstones, it goes to a {@link FilteredSearch}, which
 * scores few accepted rows exactly and otherwise searches the index with a widened nprobe.
 *
 * <p><b>Locking.</b> Writers (upsert, delete, the build's snapshot and swap) take the write lock;
 * searches and reads take the read lock for their whole duration, so an index never sees {@link
 * VectorIndex#add} during a search. The schema fields are immutable.
 */
public final class Collection {

  /** Resource name prefix: a collection's name is {@code collections/{id}}. */
  public static final String NAME_PREFIX = "collections/";

  /**
   * Queries searched between two cancellation checks: the IVF probe batch, so batching is kept
   * and a cancelled or expired call stops within one such group.
   */
  public static final int QUERIES_PER_CANCELLATION_CHECK = 16;

  /** Rows a build encodes between two progress reports and cancellation checks. */
  public static final int BUILD_ADD_CHUNK = 4096;

  /** The task name a build reports its encoding steps under. */
  public static final String ENCODE_TASK = "encode";

  /** An untrained buffer is compacted once it holds this many tombstones and more than live. */
  static final int COMPACT_MIN_TOMBSTONES = 1024;

  /** Where a collection is in its life (mirrors {@code codebook.v1.Collection.State}). */
  public enum State {
    UNTRAINED,
    BUILDING,
    READY
  }

  /** One search result: values and attributes only when asked for (else null / empty). */
  public record Hit(String id, float score, float[] values, Map<String, AttributeValue> attributes) {}

  /** Outcome of {@link #upsert}. */
  public record UpsertResult(int upserted, int replaced, long vectorCount) {}

  /** Outcome of {@link #delete}. */
  public record DeleteResult(int deleted, long vectorCount) {}

  /** A stored vector as returned by {@link #get}: values as upserted. */
  public record StoredVector(String id, float[] values, Map<String, AttributeValue> attributes) {}

  /** Outcome of {@link #build}. */
  public record BuildResult(int trainingVectors, Duration duration) {}

  /** A consistent view of the mutable metadata. */
  public record Info(long vectorCount, State state, Instant buildTime) {}

  private final String id;
  private final int dimension;
  private final Similarity similarity;
  private final IndexSpec spec;
  private final Instant createTime;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

  // Guarded by lock.
  private VectorStore store;
  private ArrayList<String> ids;
  private ArrayList<Map<String, AttributeValue>> attributes;
  private HashMap<String, Integer> ordinals;
  private RoaringBitmap tombstones;
  private AttributeIndex attributeIndex = new AttributeIndex();
  private VectorIndex active;
  private boolean trained;
  private boolean building;
  private boolean deleted;
  private Instant buildTime;

  /** Written under the write lock, read without it by {@link #info}. */
  private volatile Info info;

  Collection(String id, int dimension, Similarity similarity, IndexSpec spec, Instant createTime) {
    this.id = Objects.requireNonNull(id, "id");
    if (dimension <= 0) {
      throw new IllegalArgumentException("dimension must be positive, got " + dimension);
    }
    this.dimension = dimension;
    this.similarity = Objects.requireNonNull(similarity, "similarity");
    this.spec = Objects.requireNonNull(spec, "spec");
    spec.validateFor(dimension);
    checkBuildable(spec);
    this.createTime = Objects.requireNonNull(createTime, "createTime");
    this.store = new VectorStore(dimension);
    this.ids = new ArrayList<>();
    this.attributes = new ArrayList<>();
    this.ordinals = new HashMap<>();
    this.tombstones = new RoaringBitmap();
    this.active = new FlatIndex(dimension, similarity);
    this.info = new Info(0, State.UNTRAINED, null);
  }

  /**
   * Rejects specs that {@link IndexFactory#create} cannot build in this release (it would only
   * say so at build time): IVF-Flat. Keep in step with IndexFactory.
   *
   * @throws UnsupportedOperationException naming what is available
   */
  public static void checkBuildable(IndexSpec spec) {
    if (spec.isFlat() && spec.hasIvf()) {
      throw new UnsupportedOperationException(
          "index spec '" + spec + "' is not available in this build yet (IVF-Flat is to come);"
              + " available: Flat, [OPQ<m>,][IVF<n>,]PQ<m>[x4fs[r]][,RFlat]");
    }
  }

  /**
   * The fewest live vectors {@code spec} can be trained on: nlist for IVF, ksub for PQ, and 256
   * for OPQ (its rotation is learned with an 8-bit PQ).
   */
  public static int minTrainingVectors(IndexSpec spec) {
    int min = Math.max(1, spec.nlist());
    if (!spec.isFlat()) {
      min = Math.max(min, 1 << spec.nbits());
    }
    if (spec.opqM() > 0) {
      min = Math.max(min, 256);
    }
    return min;
  }

  /** The resource name of collection {@code id}. */
  public static String nameOf(String id) {
    return NAME_PREFIX + id;
  }

  public String id() {
    return id;
  }

  /** {@code collections/{id}}. */
  public String name() {
    return nameOf(id);
  }

  public int dimension() {
    return dimension;
  }

  public Similarity similarity() {
    return similarity;
  }

  public IndexSpec spec() {
    return spec;
  }

  public Instant createTime() {
    return createTime;
  }

  /** Live vector count, state and build time, without waiting for the lock. */
  public Info info() {
    return info;
  }

  /**
   * Inserts or replaces vectors; all or nothing. A later entry for the same id wins.
   *
   * @param newIds one id per row of {@code values}
   * @param values the vectors, already checked (dimension, finite, non-zero for cosine)
   * @param attrs one attribute map per row (empty for none)
   */
  public UpsertResult upsert(
      List<String> newIds, FloatMatrix values, List<Map<String, AttributeValue>> attrs) {
    int n = values.rows();
    if (newIds.size() != n || attrs.size() != n) {
      throw new IllegalArgumentException(
          newIds.size() + " ids and " + attrs.size() + " attribute maps for " + n + " vectors");
    }
    checkDimension(values.dim(), "vectors");
    lock.writeLock().lock();
    try {
      checkNotDeleted();
      store.ensureCapacity(n);
      // The one step that can fail; it checks everything before it changes anything.
      active.add(values);
      int base = store.rows();
      store.append(values);
      int replaced = 0;
      for (int i = 0; i < n; i++) {
        String vid = newIds.get(i);
        ids.add(vid);
        attributes.add(attrs.get(i));
        attributeIndex.add(base + i, Attributes.toIndex(attrs.get(i)));
        Integer old = ordinals.put(vid, base + i);
        if (old != null) {
          tombstones.add(old);
          attributeIndex.remove(old);
          replaced++;
        }
      }
      maybeCompact();
      publishInfo();
      return new UpsertResult(n, replaced, ordinals.size());
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * Deletes vectors by id; all or nothing.
   *
   * @param allowMissing skip ids that do not exist instead of failing
   * @throws VectorsNotFoundException if ids are missing and {@code allowMissing} is false
   */
  public DeleteResult delete(List<String> deleteIds, boolean allowMissing) {
    lock.writeLock().lock();
    try {
      checkNotDeleted();
      LinkedHashSet<String> distinct = new LinkedHashSet<>(deleteIds);
      if (!allowMissing) {
        List<String> missing = new ArrayList<>();
        for (String vid : distinct) {
          if (!ordinals.containsKey(vid)) {
            missing.add(vid);
          }
        }
        if (!missing.isEmpty()) {
          throw new VectorsNotFoundException(name(), missing);
        }
      }
      int count = 0;
      for (String vid : distinct) {
        Integer ord = ordinals.remove(vid);
        if (ord != null) {
          tombstones.add(ord);
          attributeIndex.remove(ord);
          count++;
        }
      }
      maybeCompact();
      publishInfo();
      return new DeleteResult(count, ordinals.size());
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * The stored vectors of {@code getIds}, in that order.
   *
   * @throws VectorsNotFoundException if any id does not exist
   */
  public List<StoredVector> get(List<String> getIds) {
    lock.readLock().lock();
    try {
      checkNotDeleted();
      List<String> missing = new ArrayList<>();
      List<StoredVector> out = new ArrayList<>(getIds.size());
      for (String vid : getIds) {
        Integer ord = ordinals.get(vid);
        if (ord == null) {
          missing.add(vid);
        } else if (missing.isEmpty()) {
          out.add(new StoredVector(vid, store.row(ord), attributes.get(ord)));
        }
      }
      if (!missing.isEmpty()) {
        throw new VectorsNotFoundException(name(), missing);
      }
      return out;
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Searches the top {@code k} live vectors of every query, best first.
   *
   * @param queries checked queries (dimension, finite); not modified
   * @param cancelled polled between groups of {@value #QUERIES_PER_CANCELLATION_CHECK} queries
   * @throws CancellationException when {@code cancelled} turns true
   * @throws InvalidFieldException for an nprobe larger than the built index's nlist
   */
  public Hit[][] search(FloatMatrix queries, int k, SearchParams params, boolean withValues,
      boolean withAttributes, BooleanSupplier cancelled) {
    return search(queries, k, params, null, withValues, withAttributes, cancelled);
  }

  /**
   * As {@link #search(FloatMatrix, int, SearchParams, boolean, boolean, BooleanSupplier)},
   * returning only vectors whose attributes match {@code filter} (null: all).
   *
   * @throws dev.codebook.index.filter.FilterException when a comparison's kind cannot match the
   *     attribute's values
   */
  public Hit[][] search(FloatMatrix queries, int k, SearchParams params, Filter filter,
      boolean withValues, boolean withAttributes, BooleanSupplier cancelled) {
    if (k <= 0) {
      throw new IllegalArgumentException("k must be positive, got " + k);
    }
    checkDimension(queries.dim(), "queries");
    lock.readLock().lock();
    try {
      checkNotDeleted();
      VectorIndex index = active;
      if (trained && spec.hasIvf() && params.nprobe() > spec.nlist()) {
        throw new InvalidFieldException("nprobe", InvalidFieldException.OUT_OF_RANGE,
            "nprobe " + params.nprobe() + " exceeds nlist " + spec.nlist() + " of " + name()
                + " (" + spec + "); use 1 to " + spec.nlist());
      }
      int nq = queries.rows();
      Hit[][] out = new Hit[nq][];
      FloatMatrix prepared = index.prepareQueries(queries);
      int size = index.size();
      int fetch = Math.min(size, k);
      // Tombstones are skipped inside the scan (only candidates that beat the threshold are
      // looked up); the read lock keeps the bitmap still meanwhile.
      RoaringBitmap dead = tombstones;
      AcceptOrds accept = dead.isEmpty() ? null : ord -> !dead.contains(ord);
      FilteredSearch filtered = null;
      if (filter != null) {
        RoaringBitmap accepted = attributeIndex.evaluate(filter);
        accepted.andNot(dead);
        filtered = new FilteredSearch(index, accepted, store::rows, params);
      }
      for (int from = 0; from < nq; from += QUERIES_PER_CANCELLATION_CHECK) {
        if (cancelled.getAsBoolean()) {
          throw new CancellationException(
              "search cancelled after " + from + " of " + nq + " queries");
        }
        int to = Math.min(nq, from + QUERIES_PER_CANCELLATION_CHECK);
        if (fetch == 0) {
          for (int q = from; q < to; q++) {
            out[q] = new Hit[0];
          }
          continue;
        }
        SearchResults results;
        if (filtered != null) {
          results = filtered.search(queries, prepared, from, to, fetch);
        } else {
          FloatMatrix group = from == 0 && to == nq ? prepared : slice(prepared, from, to);
          results = new SearchResults(to - from, fetch);
          index.search(group, 0, to - from, params, accept, results);
        }
        for (int q = from; q < to; q++) {
          out[q] = collect(results, q - from, k, withValues, withAttributes);
        }
      }
      return out;
    } finally {
      lock.readLock().unlock();
    }
  }

  private Hit[] collect(SearchResults results, int q, int k, boolean withValues,
      boolean withAttributes) {
    int fetch = results.k();
    int[] ords = results.ids();
    float[] scores = results.scores();
    Hit[] hits = new Hit[Math.min(k, fetch)];
    int n = 0;
    for (int r = 0, at = q * fetch; r < fetch && n < hits.length; r++, at++) {
      int ord = ords[at];
      if (ord < 0) {
        break;
      }
      if (tombstones.contains(ord)) {
        continue;
      }
      hits[n++] = new Hit(ids.get(ord), scores[at], withValues ? store.row(ord) : null,
          withAttributes ? attributes.get(ord) : Map.of());
    }
    return n == hits.length ? hits : Arrays.copyOf(hits, n);
  }

  private static FloatMatrix slice(FloatMatrix m, int from, int to) {
    float[] rows = new float[(to - from) * m.dim()];
    System.arraycopy(m.data(), m.offset(from), rows, 0, rows.length);
    return new FloatMatrix(to - from, m.dim(), rows);
  }

  /**
   * Trains the spec on the live vectors, adds them to the new index and swaps it in. Searches
   * and writes continue against the previous index meanwhile; writes made during the build are
   * carried over. Synchronous: returns when the collection is READY. {@code options} carries the
   * progress hook and the cancel flag: a cancelled build throws CancellationException and leaves
   * the collection as it was.
   *
   * @throws CollectionStateException if a build is running, or there are too few vectors to
   *     train on, or training rejects them
   */
  public BuildResult build(IndexFactory.BuildOptions options) {
    long start = System.nanoTime();
    int snapshotSize;
    int[] liveOrds;
    FloatMatrix snapshot;
    lock.writeLock().lock();
    try {
      checkNotDeleted();
      if (building) {
        throw new CollectionStateException(CollectionStateException.BUILD_RUNNING,
            "a build of " + name() + " is already running; wait for it to finish");
      }
      int min = minTrainingVectors(spec);
      if (ordinals.size() < min) {
        throw new CollectionStateException(CollectionStateException.TOO_FEW_VECTORS,
            name() + " has " + ordinals.size() + " vectors; " + spec + " needs at least " + min
                + " to train on");
      }
      snapshotSize = store.rows();
      liveOrds = liveOrdinals(snapshotSize);
      snapshot = store.rows(liveOrds);
      building = true;
      publishInfo();
    } finally {
      lock.writeLock().unlock();
    }

    VectorIndex built;
    try {
      try {
        built = IndexFactory.create(spec, dimension, similarity, snapshot, options);
      } catch (IllegalArgumentException e) {
        throw new CollectionStateException("TRAINING_FAILED",
            "cannot train " + spec + " on the " + liveOrds.length + " vectors of " + name() + ": "
                + e.getMessage());
      }
      addInChunks(built, snapshot, options);
      options.checkCancelled();
    } catch (RuntimeException | Error e) {
      lock.writeLock().lock();
      try {
        building = false;
        publishInfo();
      } finally {
        lock.writeLock().unlock();
      }
      throw e;
    }

    lock.writeLock().lock();
    try {
      building = false;
      checkNotDeleted();
      swapIn(built, snapshot, liveOrds, snapshotSize);
      trained = true;
      buildTime = Instant.now();
      return new BuildResult(liveOrds.length, Duration.ofNanos(System.nanoTime() - start));
    } finally {
      publishInfo();
      lock.writeLock().unlock();
    }
  }

  /**
   * Encodes a build's snapshot {@value #BUILD_ADD_CHUNK} rows at a time, reporting each chunk to
   * {@code options.steps()} as task {@value #ENCODE_TASK} and checking for cancellation between
   * chunks. Encoding is per row, so the index equals one {@code add} of all rows.
   */
  private static void addInChunks(VectorIndex index, FloatMatrix rows,
      IndexFactory.BuildOptions options) {
    int n = rows.rows();
    int chunks = Math.max(1, (n + BUILD_ADD_CHUNK - 1) / BUILD_ADD_CHUNK);
    for (int c = 0; c < chunks; c++) {
      options.checkCancelled();
      int from = c * BUILD_ADD_CHUNK;
      int to = Math.min(n, from + BUILD_ADD_CHUNK);
      index.add(from == 0 && to == n ? rows : slice(rows, from, to));
      options.steps().onStep(ENCODE_TASK, c + 1, chunks, Double.NaN);
    }
  }

  /**
   * Replaces the ordinal space with the build's: its live snapshot first (tombstoned again if
   * deleted or replaced during the build), then the live vectors upserted since, added to the new
   * index here. Caller holds the write lock.
   */
  private void swapIn(VectorIndex built, FloatMatrix snapshot, int[] liveOrds, int snapshotSize) {
    int total = store.rows();
    RoaringBitmap since = RoaringBitmap.bitmapOfRange(snapshotSize, total);
    since.andNot(tombstones);
    int[] delta = since.toArray();
    if (delta.length > 0) {
      built.add(store.rows(delta));
    }
    VectorStore newStore = VectorStore.wrap(snapshot);
    int n = liveOrds.length + delta.length;
    ArrayList<String> newIds = new ArrayList<>(n);
    ArrayList<Map<String, AttributeValue>> newAttrs = new ArrayList<>(n);
    HashMap<String, Integer> newOrdinals = HashMap.newHashMap(n);
    RoaringBitmap newTombstones = new RoaringBitmap();
    for (int i = 0; i < liveOrds.length; i++) {
      int old = liveOrds[i];
      String vid = ids.get(old);
      newIds.add(vid);
      newAttrs.add(attributes.get(old));
      if (tombstones.contains(old)) {
        newTombstones.add(i);
      } else {
        newOrdinals.put(vid, i);
      }
    }
    if (delta.length > 0) {
      newStore.append(store.rows(delta));
      for (int j = 0; j < delta.length; j++) {
        String vid = ids.get(delta[j]);
        newIds.add(vid);
        newAttrs.add(attributes.get(delta[j]));
        newOrdinals.put(vid, liveOrds.length + j);
      }
    }
    store = newStore;
    ids = newIds;
    attributes = newAttrs;
    ordinals = newOrdinals;
    tombstones = newTombstones;
    attributeIndex = attributeIndexOf(newAttrs);
    active = built;
  }

  /** Live ordinals below {@code size}, ascending. */
  private int[] liveOrdinals(int size) {
    RoaringBitmap live = RoaringBitmap.bitmapOfRange(0, size);
    live.andNot(tombstones);
    return live.toArray();
  }

  /**
   * Rewrites an untrained buffer without its tombstones once they outnumber the live vectors, so
   * repeated upserts of the same ids do not grow it without bound. Not during a build, whose
   * snapshot refers to the current ordinals. Caller holds the write lock.
   */
  private void maybeCompact() {
    long dead = tombstones.getLongCardinality();
    if (trained || building || dead < COMPACT_MIN_TOMBSTONES || dead <= ordinals.size()) {
      return;
    }
    int[] live = liveOrdinals(store.rows());
    FloatMatrix values = store.rows(live);
    FlatIndex flat = FlatIndex.of(values, similarity);
    ArrayList<String> newIds = new ArrayList<>(live.length);
    ArrayList<Map<String, AttributeValue>> newAttrs = new ArrayList<>(live.length);
    HashMap<String, Integer> newOrdinals = HashMap.newHashMap(live.length);
    for (int i = 0; i < live.length; i++) {
      String vid = ids.get(live[i]);
      newIds.add(vid);
      newAttrs.add(attributes.get(live[i]));
      newOrdinals.put(vid, i);
    }
    store = VectorStore.wrap(values);
    ids = newIds;
    attributes = newAttrs;
    ordinals = newOrdinals;
    tombstones = new RoaringBitmap();
    attributeIndex = attributeIndexOf(newAttrs);
    active = flat;
  }

  /** An attribute index over {@code byOrdinal} (tombstoned rows too: searches subtract them). */
  private static AttributeIndex attributeIndexOf(List<Map<String, AttributeValue>> byOrdinal) {
    AttributeIndex idx = new AttributeIndex();
    for (int ord = 0; ord < byOrdinal.size(); ord++) {
      idx.add(ord, Attributes.toIndex(byOrdinal.get(ord)));
    }
    return idx;
  }

  /** Vectors held including tombstoned ones (for tests of compaction). */
  int storedVectors() {
    lock.readLock().lock();
    try {
      return store.rows();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Marks the collection deleted: later calls on this object answer NOT_FOUND. */
  void markDeleted() {
    lock.writeLock().lock();
    try {
      deleted = true;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Caller holds the write lock. */
  private void publishInfo() {
    State state = building ? State.BUILDING : trained ? State.READY : State.UNTRAINED;
    info = new Info(ordinals.size(), state, buildTime);
  }

  private void checkNotDeleted() {
    if (deleted) {
      throw new CollectionNotFoundException(name());
    }
  }

  private void checkDimension(int got, String what) {
    if (got != dimension) {
      throw new IllegalArgumentException(
          what + ": vector dimensions differ: " + got + "!=" + dimension);
    }
  }

  @Override
  public String toString() {
    return name() + " (" + dimension + "d, " + similarity.shortName() + ", " + spec + ")";
  }
}
