package dev.codebook.index.store;

import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchContext;
import dev.codebook.index.SearchParams;
import dev.codebook.index.VectorIndex;
import dev.codebook.index.filter.AttributeIndex;
import dev.codebook.index.filter.AttributeValue;
import dev.codebook.index.filter.Filter;
import dev.codebook.index.filter.FilteredSearch;
import dev.codebook.index.flat.FlatIndex;
import dev.codebook.index.ivf.IvfPqCodebook;
import dev.codebook.index.ivf.IvfPqIndex;
import dev.codebook.index.ivf.MappedRawVectors;
import dev.codebook.index.ivf.RawVectors;
import dev.codebook.index.search.AcceptOrds;
import dev.codebook.index.search.ScanStats;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.search.TopK;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import dev.codebook.index.vector.VectorUtil;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.StringHelper;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable collection in one directory: immutable {@link Segment segments}, a mutable in-memory
 * buffer of recent writes, a {@link WriteAheadLog} that makes those writes durable, and a {@link
 * Manifest} naming the committed state. Ids are strings; attributes are opaque bytes (the server
 * encodes them).
 *
 * <p><b>Writes.</b> An upsert or delete is validated, appended to the log and applied to the
 * buffer under the write lock; the caller is answered once the log record is durable under the
 * {@link Durability} policy, waiting outside the lock so concurrent writers share an fsync. A
 * replaced or deleted row is marked in its holder's deletion bitmap. The id map ({@code id ->
 * (segment number, local ordinal)}) is the truth about which row of an id is live; bitmaps are
 * derived from it and persisted as {@link DeletesFile deletion generations} at each commit.
 *
 * <p><b>Flush.</b> When the buffer holds {@link Options#flushRows} rows a background thread
 * freezes it (the log rolls to a new generation), writes it as a segment with the same number and
 * ordinals (encoded with the current codebook when trained), opens it and commits a manifest
 * whose log checkpoint is the new generation; older logs are then deleted.
 *
 * <p><b>Merge.</b> Segments with many deletions, or too many segments, are rewritten into one
 * with only live rows (encoded with the current codebook); rows deleted or replaced while the
 * merge ran are found through the id map at swap time and marked deleted in the new segment.
 *
 * <p><b>Build.</b> Flushes, trains the spec's quantizers on a sample of live vectors, stores
 * them as {@code codebook_V+1}, merges every segment into one encoded with them and commits:
 * searches go on against the old segments until the swap.
 *
 * <p><b>Search</b> runs over a snapshot: the segment set with one reference each and their
 * deletion bitmaps, taken under the read lock. Buffers are searched exactly under the read lock
 * (they are small); segments after it is released, each with its own index (IVF-PQ when
 * encoded, else exact), and the per-part top-k are merged by score. <b>Global ordinals</b>
 * within a snapshot: the segments in order, then the frozen buffer, then the live buffer, each
 * starting where the previous ends: a filter's accept-set over global ordinals maps to
 * a segment's local ordinals by subtracting its base.
 *
 * <p><b>Backup</b> commits under the write lock, notes the committed files and the log's length,
 * then copies them (writes go on; flushes and merges wait) and writes a {@link BackupFile table
 * of contents} last; restore checks every file against it, then opens the copy.
 *
 * <p><b>Opening</b> reads the newest manifest, verifies every file's checksum, loads the
 * segments and replays the log from the checkpoint. Any bad file fails with {@link
 * CorruptIndexException} naming it.
 */
public final class CollectionStore implements Closeable {

  private static final Logger LOG = LoggerFactory.getLogger(CollectionStore.class);

  /** The task name a build reports its encoding steps under ({@link IndexFactory.BuildOptions#steps}). */
  public static final String ENCODE_TASK = "encode";

  /**
   * Tuning.
   *
   * @param durability when writes are acknowledged
   * @param flushRows buffered rows that trigger a flush
   * @param maxSegments more segments than this trigger a merge of the smallest
   * @param mergeDeletedRatio a segment with this fraction of rows deleted is rewritten
   * @param backgroundMaintenance flush and merge on a background thread (off: only when asked)
   * @param attributeDecoder turns a row's attribute blob into filterable values (for {@link
   *     Filter}s; the default sees no attributes)
   */
  public record Options(Durability durability, int flushRows, int maxSegments,
      double mergeDeletedRatio, boolean backgroundMaintenance,
      Function<byte[], Map<String, AttributeValue>> attributeDecoder) {

    public static final int DEFAULT_FLUSH_ROWS = 20_000;
    public static final int DEFAULT_MAX_SEGMENTS = 8;
    public static final double DEFAULT_MERGE_DELETED_RATIO = 0.3;

    public Options {
      attributeDecoder = attributeDecoder == null ? b -> Map.of() : attributeDecoder;
      if (flushRows <= 0 || maxSegments < 1 || !(mergeDeletedRatio > 0)) {
        throw new IllegalArgumentException("bad store options: flushRows " + flushRows
            + ", maxSegments " + maxSegments + ", mergeDeletedRatio " + mergeDeletedRatio);
      }
    }

    public static Options defaults() {
      return new Options(Durability.group(Durability.DEFAULT_INTERVAL), DEFAULT_FLUSH_ROWS,
          DEFAULT_MAX_SEGMENTS, DEFAULT_MERGE_DELETED_RATIO, true, null);
    }

    public Options withDurability(Durability d) {
      return new Options(d, flushRows, maxSegments, mergeDeletedRatio, backgroundMaintenance,
          attributeDecoder);
    }

    public Options withFlushRows(int rows) {
      return new Options(durability, rows, maxSegments, mergeDeletedRatio,
          backgroundMaintenance, attributeDecoder);
    }

    public Options withMaxSegments(int n) {
      return new Options(durability, flushRows, n, mergeDeletedRatio, backgroundMaintenance,
          attributeDecoder);
    }

    public Options withBackgroundMaintenance(boolean on) {
      return new Options(durability, flushRows, maxSegments, mergeDeletedRatio, on,
          attributeDecoder);
    }

    public Options withAttributeDecoder(Function<byte[], Map<String, AttributeValue>> decoder) {
      return new Options(durability, flushRows, maxSegments, mergeDeletedRatio,
          backgroundMaintenance, decoder);
    }
  }

  /** A stored row as read back. */
  public record Row(String id, float[] values, byte[] attributes) {}

  /** One search result; values and attributes only when asked for (else null). */
  public record Hit(String id, float score, float[] values, byte[] attributes) {}

  /** Outcome of an upsert. */
  public record UpsertResult(int upserted, int replaced, long liveCount) {}

  /** Outcome of a delete. */
  public record DeleteResult(int deleted, long liveCount, List<String> missing) {}

  /**
   * Outcome of {@link #backup}: the files written (the table of contents included), their total
   * bytes, and the live vectors and manifest generation of the commit the backup holds.
   */
  public record BackupResult(int files, long bytes, long liveCount, long manifestGeneration) {}

  /** Outcome of a build. */
  public record BuildResult(int trainingVectors, int codebookVersion, int vectors) {}

  /** What an open found and did. */
  public record OpenStats(int segments, long rows, int replayedRecords, long truncatedBytes,
      long millis) {}

  private final Path path;
  private final Directory dir;
  /** Held from before the first read until close: one process at a time in this directory. */
  private final DirectoryLock writeLock;
  private final int dim;
  private final Similarity similarity;
  private final IndexSpec spec;
  private final long createTime;
  private final Options options;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final ReentrantLock maintenance = new ReentrantLock();
  private final ExecutorService background;
  private final AtomicBoolean maintenanceQueued = new AtomicBoolean();
  private volatile boolean closed;

  // Guarded by lock.
  private final List<Segment> segments = new ArrayList<>();
  private final Map<Long, Segment> byNumber = new HashMap<>();
  private final HashMap<String, Long> locations = new HashMap<>();
  private final Map<Integer, IvfPqCodebook> codebooks = new HashMap<>();
  private Buffer buffer;
  private Buffer frozen;
  private int codebookVersion;
  private long buildTime;
  private long manifestGen;
  private long nextSegment;
  private WriteAheadLog wal;
  private OpenStats openStats;
  private volatile long liveCount;

  private CollectionStore(Path path, Directory dir, DirectoryLock writeLock, Manifest m,
      Options options) {
    this.path = path;
    this.dir = dir;
    this.writeLock = writeLock;
    this.dim = m.dimension();
    this.similarity = m.similarity();
    this.spec = m.spec();
    this.createTime = m.createTime();
    this.options = options;
    this.codebookVersion = m.codebookVersion();
    this.buildTime = m.buildTime();
    this.manifestGen = m.generation();
    this.nextSegment = m.nextSegment();
    this.background = options.backgroundMaintenance()
        ? Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon()
            .name("store-" + path.getFileName()).unstarted(r))
        : null;
  }

  /**
   * Creates a collection in the empty or missing directory {@code path} and commits its first
   * manifest.
   *
   * @throws IllegalStateException if {@code path} already holds a collection
   */
  public static CollectionStore create(Path path, int dimension, Similarity similarity,
      IndexSpec spec, Options options) throws IOException {
    spec.validateFor(dimension);
    Files.createDirectories(path);
    Directory dir = FSDirectory.open(path);
    DirectoryLock writeLock = null;
    try {
      writeLock = DirectoryLock.obtain(path, dir, "collection directory");
      if (exists(path)) {
        throw new IllegalStateException(path + " already holds a collection");
      }
      Manifest m = new Manifest(1, dimension, similarity, spec, System.currentTimeMillis(), 0, 0,
          1, 1, List.of());
      m.commit(dir);
      // The collection directory's own entry must survive a crash once create returns.
      org.apache.lucene.util.IOUtils.fsync(path.toAbsolutePath().getParent(), true);
      return open(path, dir, writeLock, options);
    } catch (IOException | RuntimeException e) {
      org.apache.lucene.util.IOUtils.closeWhileHandlingException(writeLock, dir);
      throw e;
    }
  }

  /**
   * Opens the collection in {@code path}: newest manifest, codebooks, segments (every checksum
   * verified), then the log replayed.
   *
   * @throws CorruptIndexException naming the file when anything is damaged or missing
   */
  public static CollectionStore open(Path path, Options options) throws IOException {
    if (!Files.isDirectory(path)) {
      throw new CorruptIndexException("no such directory: not a collection directory",
          path.toString());
    }
    Directory dir = FSDirectory.open(path);
    DirectoryLock writeLock = null;
    try {
      writeLock = DirectoryLock.obtain(path, dir, "collection directory");
      return open(path, dir, writeLock, options);
    } catch (IOException | RuntimeException e) {
      org.apache.lucene.util.IOUtils.closeWhileHandlingException(writeLock, dir);
      throw e;
    }
  }

  /** Whether {@code path} holds a committed collection. */
  public static boolean exists(Path path) throws IOException {
    if (!Files.isDirectory(path)) {
      return false;
    }
    try (var s = Files.list(path)) {
      return s.anyMatch(p -> StoreFiles.manifestGeneration(p.getFileName().toString()) >= 0);
    }
  }

  private static CollectionStore open(Path path, Directory dir, DirectoryLock writeLock,
      Options options) throws IOException {
    long t0 = System.nanoTime();
    Manifest m = Manifest.readLatest(dir);
    if (m == null) {
      throw new CorruptIndexException("no manifest_N file: not a collection directory",
          path.toString());
    }
    CollectionStore s = new CollectionStore(path, dir, writeLock, m, options);
    boolean ok = false;
    try {
      s.load(m, t0);
      ok = true;
      return s;
    } finally {
      if (!ok) {
        s.closeQuietly();
      }
    }
  }

  private void load(Manifest m, long t0) throws IOException {
    Set<Integer> versions = new HashSet<>();
    if (m.codebookVersion() > 0) {
      versions.add(m.codebookVersion());
    }
    for (Manifest.SegmentInfo si : m.segments()) {
      if (si.codebookVersion() > 0) {
        versions.add(si.codebookVersion());
      }
    }
    for (int v : versions) {
      codebooks.put(v, CodebookFile.read(dir, v));
    }
    long rows = 0;
    for (Manifest.SegmentInfo si : m.segments()) {
      Segment seg = Segment.open(dir, path, si, dim, similarity, codebooks::get);
      segments.add(seg);
      byNumber.put(seg.number, seg);
      for (int r = 0; r < seg.size; r++) {
        if (!seg.deletes.contains(r)) {
          locations.put(seg.ids[r], pack(seg.number, r));
        }
      }
      rows += seg.size;
    }
    deleteUnreferenced(m);
    buffer = new Buffer(nextSegment++, m.walCheckpoint(), dim, similarity,
        options.attributeDecoder());
    int[] replayed = new int[1];
    WriteAheadLog.Replayed r = WriteAheadLog.replay(dir, path, m.walCheckpoint(), dim, rec -> {
      replayed[0]++;
      switch (rec) {
        case WalRecord.Upsert u -> applyUpsert(u);
        case WalRecord.Delete d -> applyDelete(d.ids());
      }
    });
    long gen = Math.max(r.lastGeneration(), m.walCheckpoint() - 1) + 1;
    if (r.records() == 0) {
      // Logs since the checkpoint that hold no record (each open starts a generation, and a
      // close with nothing buffered commits nothing): without this, every restart left one.
      for (String name : dir.listAll()) {
        if (StoreFiles.walGeneration(name) >= m.walCheckpoint()) {
          StoreFiles.deleteQuietly(dir, name);
        }
      }
    }
    wal = WriteAheadLog.create(dir, path, dim, options.durability(), gen, r.lastSeq());
    liveCount = locations.size();
    openStats = new OpenStats(segments.size(), rows, r.records(), r.truncatedBytes(),
        (System.nanoTime() - t0) / 1_000_000);
    if (r.truncatedBytes() > 0) {
      LOG.warn("{}: dropped a torn log tail of {} bytes (an unacknowledged write)", path,
          r.truncatedBytes());
    }
    maybeScheduleMaintenance();
  }

  /** Deletes store files the manifest does not reference (left by a crash or a dropped commit). */
  private void deleteUnreferenced(Manifest m) throws IOException {
    Set<String> keep = new HashSet<>();
    keep.add(StoreFiles.manifest(m.generation()));
    if (m.codebookVersion() > 0) {
      keep.add(StoreFiles.codebook(m.codebookVersion()));
    }
    for (Segment seg : segments) {
      keep.addAll(seg.files());
      if (seg.codebookVersion > 0) {
        keep.add(StoreFiles.codebook(seg.codebookVersion));
      }
    }
    for (String name : dir.listAll()) {
      if (!StoreFiles.isStoreFile(name) || keep.contains(name)) {
        continue;
      }
      long walGen = StoreFiles.walGeneration(name);
      if (walGen >= m.walCheckpoint()) {
        continue;
      }
      StoreFiles.deleteQuietly(dir, name);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Accessors

  public Path path() {
    return path;
  }

  public int dimension() {
    return dim;
  }

  public Similarity similarity() {
    return similarity;
  }

  public IndexSpec spec() {
    return spec;
  }

  public long createTime() {
    return createTime;
  }

  /** Epoch ms of the last build, 0 if never built. */
  public long buildTime() {
    lock.readLock().lock();
    try {
      return buildTime;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Live vectors, without waiting for the lock. */
  public long liveCount() {
    return liveCount;
  }

  /** The current codebook version, 0 before the first build of an IVF-PQ spec. */
  public int codebookVersion() {
    lock.readLock().lock();
    try {
      return codebookVersion;
    } finally {
      lock.readLock().unlock();
    }
  }

  public Durability durability() {
    return options.durability();
  }

  public OpenStats openStats() {
    return openStats;
  }

  /** Committed segments (for tests and stats). */
  public int segmentCount() {
    lock.readLock().lock();
    try {
      return segments.size();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Rows held in segments and buffers, deleted ones included (for tests of merging). */
  public long storedRows() {
    lock.readLock().lock();
    try {
      long n = buffer.rows + (frozen == null ? 0 : frozen.rows);
      for (Segment s : segments) {
        n += s.size;
      }
      return n;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Rows in the mutable buffer (not yet in a segment). */
  public int bufferedRows() {
    lock.readLock().lock();
    try {
      return buffer.rows;
    } finally {
      lock.readLock().unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

  /**
   * Inserts or replaces rows, all or nothing; a later row with the same id wins. Returns once
   * the write is durable under the policy.
   *
   * @param values {@code ids.size() * dimension} floats as upserted
   * @throws IllegalArgumentException for a non-finite value, (cosine) a zero vector or (dot
   *     product, L2) a vector too large to score in float; nothing is written
   * @throws IOException if the log cannot be written or synced (the write is not acknowledged)
   */
  public UpsertResult upsert(List<String> ids, float[] values, List<byte[]> attributes)
      throws IOException {
    int n = ids.size();
    if (values.length != (long) n * dim || attributes.size() != n) {
      throw new IllegalArgumentException(n + " ids, " + attributes.size()
          + " attribute blobs and " + values.length + " floats at dimension " + dim);
    }
    for (int i = 0; i < n; i++) {
      VectorUtil.checkFinite(values, i * dim, dim, "vectors", i);
      double norm2 = VectorUtil.squaredNorm(values, i * dim, dim);
      if (similarity.normalizes() && !(norm2 > 0)) {
        throw new IllegalArgumentException(
            "vectors[" + i + "] cannot be normalized for cosine similarity: its norm is 0");
      }
      if (!similarity.normalizes()) {
        VectorUtil.checkMagnitude(norm2, "vectors", i);
      }
    }
    WalRecord.Upsert rec = new WalRecord.Upsert(List.copyOf(ids), values.clone(),
        List.copyOf(attributes));
    long seq;
    int replaced;
    lock.writeLock().lock();
    try {
      ensureOpen();
      // The one check that can fail after validation; done before the log sees the record.
      buffer.ensureRoom((long) (buffer.rows + n) * dim);
      seq = wal.append(rec);
      replaced = applyUpsert(rec);
      liveCount = locations.size();
    } finally {
      lock.writeLock().unlock();
    }
    wal.awaitDurable(seq);
    if (buffer.rows >= options.flushRows()) {
      maybeScheduleMaintenance();
    }
    return new UpsertResult(n, replaced, liveCount);
  }

  /**
   * Deletes rows by id, all or nothing. Returns once durable.
   *
   * @param allowMissing skip ids that do not exist; when false and some are missing nothing is
   *     deleted and they are returned in {@link DeleteResult#missing}
   */
  public DeleteResult delete(List<String> ids, boolean allowMissing) throws IOException {
    List<String> distinct = new ArrayList<>(new LinkedHashSet<>(ids));
    long seq;
    int count;
    lock.writeLock().lock();
    try {
      ensureOpen();
      List<String> missing = new ArrayList<>();
      List<String> present = new ArrayList<>();
      for (String id : distinct) {
        (locations.containsKey(id) ? present : missing).add(id);
      }
      if (!allowMissing && !missing.isEmpty()) {
        return new DeleteResult(0, locations.size(), missing);
      }
      if (present.isEmpty()) {
        return new DeleteResult(0, locations.size(), List.of());
      }
      seq = wal.append(new WalRecord.Delete(present));
      count = applyDelete(present);
      liveCount = locations.size();
    } finally {
      lock.writeLock().unlock();
    }
    wal.awaitDurable(seq);
    maybeScheduleMaintenance();
    return new DeleteResult(count, liveCount, List.of());
  }

  /** Applies an upsert to the buffer and id map; caller holds the write lock (or is loading). */
  private int applyUpsert(WalRecord.Upsert u) {
    int n = u.ids().size();
    Buffer b = buffer;
    int base = b.rows;
    b.append(u.ids(), u.values(), u.attributes());
    int replaced = 0;
    for (int i = 0; i < n; i++) {
      Long old = locations.put(u.ids().get(i), pack(b.number, base + i));
      if (old != null) {
        markDeleted(old);
        replaced++;
      }
    }
    return replaced;
  }

  private int applyDelete(List<String> ids) {
    int count = 0;
    for (String id : ids) {
      Long old = locations.remove(id);
      if (old != null) {
        markDeleted(old);
        count++;
      }
    }
    return count;
  }

  /** Marks a row deleted in its holder; caller holds the write lock. */
  private void markDeleted(long loc) {
    long number = loc >>> 32;
    int ord = (int) loc;
    if (number == buffer.number) {
      buffer.deletes.add(ord);
    } else if (frozen != null && number == frozen.number) {
      frozen.deletes.add(ord);
    } else {
      Segment seg = byNumber.get(number);
      // Copy-on-write: searches outside the lock keep the bitmap they took.
      RoaringBitmap next = seg.deletes.clone();
      next.add(ord);
      seg.deletes = next;
      seg.dirty = true;
    }
  }

  private static long pack(long number, int ord) {
    return number << 32 | (ord & 0xFFFFFFFFL);
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  /** The rows of {@code ids} in that order; null for an id that does not exist. */
  public List<Row> get(List<String> ids) {
    lock.readLock().lock();
    try {
      ensureOpenUnchecked();
      List<Row> out = new ArrayList<>(ids.size());
      for (String id : ids) {
        Long loc = locations.get(id);
        out.add(loc == null ? null : row(loc, true, true));
      }
      return out;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Caller holds the read lock. */
  private Row row(long loc, boolean values, boolean attrs) {
    long number = loc >>> 32;
    int ord = (int) loc;
    if (number == buffer.number) {
      return buffer.row(ord, values, attrs);
    }
    if (frozen != null && number == frozen.number) {
      return frozen.row(ord, values, attrs);
    }
    Segment seg = byNumber.get(number);
    return new Row(seg.ids[ord], values ? seg.vector(ord) : null,
        attrs ? seg.attributes[ord] : null);
  }

  /**
   * The top {@code k} live rows for every query, best first, merged over the segments (their
   * index: IVF-PQ when encoded, else exact) and the buffers (exact).
   *
   * @param queries raw queries, dimension checked by the caller
   * @param cancelled polled between groups of 16 queries, and every {@link
   *     IvfPqIndex#CANCEL_CHECK_LISTS} lists inside a query's IVF-PQ scan
   * @throws CancellationException when {@code cancelled} turns true
   */
  public Hit[][] search(FloatMatrix queries, int k, SearchParams params, boolean withValues,
      boolean withAttributes, BooleanSupplier cancelled) {
    return search(queries, k, params, (java.util.function.Predicate<byte[]>) null, withValues,
        withAttributes, cancelled);
  }

  /**
   * As {@link #search(FloatMatrix, int, SearchParams, boolean, boolean, BooleanSupplier)},
   * returning only rows whose attributes match {@code filter} (null: all). Each part of the
   * snapshot evaluates it on its own {@link AttributeIndex} (a segment's is built on first use
   * from its attributes through {@link Options#attributeDecoder}) into a bitmap of accepted local
   * ordinals, and a {@link FilteredSearch} scores few accepted rows exactly and otherwise widens
   * the probe.
   */
  public Hit[][] search(FloatMatrix queries, int k, SearchParams params, Filter filter,
      boolean withValues, boolean withAttributes, BooleanSupplier cancelled) {
    return search(queries, k, params, filter == null ? null : part -> part.evaluate(filter),
        null, withValues, withAttributes, cancelled);
  }

  /**
   * As {@link #search(FloatMatrix, int, SearchParams, boolean, boolean, BooleanSupplier)},
   * returning only rows whose attributes {@code filter} accepts ({@code null}: all). The filter
   * is evaluated once per part of the snapshot into a RoaringBitmap of accepted local ordinals,
   * which the scan consults together with the deletions (only for candidates that beat the
   * top-k threshold).
   */
  public Hit[][] search(FloatMatrix queries, int k, SearchParams params,
      java.util.function.Predicate<byte[]> filter, boolean withValues, boolean withAttributes,
      BooleanSupplier cancelled) {
    return search(queries, k, params, null, filter, withValues, withAttributes, cancelled);
  }

  /** What a filter sees of one part of a snapshot. */
  private interface Part {
    RoaringBitmap evaluate(Filter filter);
  }

  private Hit[][] search(FloatMatrix queries, int k, SearchParams params,
      Function<Part, RoaringBitmap> byIndex, java.util.function.Predicate<byte[]> filter,
      boolean withValues, boolean withAttributes, BooleanSupplier cancelled) {
    if (queries.dim() != dim) {
      throw new IllegalArgumentException(
          "queries: vector dimensions differ: " + queries.dim() + "!=" + dim);
    }
    int nq = queries.rows();
    TopK[] merged = new TopK[nq];
    for (int q = 0; q < nq; q++) {
      merged[q] = new TopK(k);
    }
    // Buffer hits keyed by negative global ids: -(1 + index into bufferRows).
    List<Row> bufferRows = new ArrayList<>();
    List<Segment> segs;
    List<RoaringBitmap> dels = new ArrayList<>();
    lock.readLock().lock();
    try {
      ensureOpenUnchecked();
      segs = new ArrayList<>(segments.size());
      for (Segment s : segments) {
        s.incRef();
        segs.add(s);
        dels.add(s.deletes);
      }
      for (Buffer b : frozen == null ? List.of(buffer) : List.of(frozen, buffer)) {
        if (b.rows - b.deletes.getCardinality() <= 0) {
          continue;
        }
        RoaringBitmap acc = byIndex != null ? byIndex.apply(b.attributeIndex()::evaluate)
            : accepted(filter, b.rows, b.attrs::get);
        SearchResults r = searchIndex(b.flat, b.deletes.isEmpty() ? null : b.deletes, acc,
            b::rows, queries, k, params, cancelled);
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
      lock.readLock().unlock();
    }
    try {
      HitTable hitTable = new HitTable();
      for (int i = 0; i < segs.size(); i++) {
        Segment s = segs.get(i);
        RoaringBitmap del = dels.get(i);
        if (s.size - del.getCardinality() <= 0) {
          continue;
        }
        RoaringBitmap acc = byIndex != null
            ? byIndex.apply(f -> s.attributeIndex(options.attributeDecoder()).evaluate(f))
            : accepted(filter, s.size, row -> s.attributes[row]);
        SearchResults r = searchIndex(s.index(), del.isEmpty() ? null : del, acc, s::rows,
            queries, k, params, cancelled);
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
      Hit[][] out = new Hit[nq][];
      int[] idsBuf = new int[k];
      float[] scoresBuf = new float[k];
      for (int q = 0; q < nq; q++) {
        int n = merged[q].drainBestFirst(idsBuf, scoresBuf, 0);
        Hit[] hits = new Hit[n];
        for (int j = 0; j < n; j++) {
          int h = idsBuf[j];
          if (h < 0) {
            Row row = bufferRows.get(-1 - h);
            hits[j] = new Hit(row.id(), scoresBuf[j], row.values(), row.attributes());
          } else {
            Segment s = segs.get(hitTable.seg(h));
            int ord = hitTable.ord(h);
            hits[j] = new Hit(s.ids[ord], scoresBuf[j], withValues ? s.vector(ord) : null,
                withAttributes ? s.attributes[ord] : null);
          }
        }
        out[q] = hits;
      }
      return out;
    } finally {
      for (Segment s : segs) {
        s.decRef();
      }
    }
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

  /** The rows {@code filter} accepts, or null for no filter. */
  private static RoaringBitmap accepted(java.util.function.Predicate<byte[]> filter, int rows,
      java.util.function.IntFunction<byte[]> attributes) {
    if (filter == null) {
      return null;
    }
    RoaringBitmap ok = new RoaringBitmap();
    for (int r = 0; r < rows; r++) {
      if (filter.test(attributes.apply(r))) {
        ok.add(r);
      }
    }
    return ok;
  }

  /** Queries searched between two deadline checks when the index does not poll one itself. */
  private static final int CANCEL_CHECK_QUERIES = 16;

  private static SearchResults searchIndex(VectorIndex index, RoaringBitmap deleted,
      RoaringBitmap accepted, Function<int[], FloatMatrix> rows, FloatMatrix queries, int k,
      SearchParams params, BooleanSupplier cancelled) {
    int nq = queries.rows();
    int fetch = Math.min(k, index.size());
    if (fetch == 0 || (accepted != null && accepted.isEmpty())) {
      return new SearchResults(nq, Math.max(1, fetch));
    }
    SearchParams p = params;
    if (index instanceof IvfPqIndex ivf && params.nprobe() > ivf.nlist()) {
      p = new SearchParams(ivf.nlist(), params.rerank());
    }
    FloatMatrix prepared = index.prepareQueries(queries);
    FilteredSearch filtered = null;
    AcceptOrds accept = null;
    if (accepted != null) {
      if (deleted != null) {
        accepted = RoaringBitmap.andNot(accepted, deleted);
      }
      filtered = new FilteredSearch(index, accepted, rows, p);
    } else if (deleted != null) {
      RoaringBitmap dead = deleted;
      accept = ord -> !dead.contains(ord);
    }
    SearchResults r = new SearchResults(nq, fetch);
    // An index that polls the deadline inside its scan gets the whole batch, so IVF-PQ can scan
    // a big batch list by list; otherwise parts of 16 queries bound the time past a deadline.
    int step = filtered == null && index.pollsCancellation() ? nq : CANCEL_CHECK_QUERIES;
    try (SearchContext ctx = new SearchContext().queries(prepared, queries).params(p)
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
      ScanStats.add(ctx.codesScanned(), ctx.exactScored());
    }
    return r;
  }

  // ---------------------------------------------------------------------------------------------
  // Flush, merge, build, commit

  private void maybeScheduleMaintenance() {
    if (background == null || closed || !maintenanceQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      background.execute(() -> {
        maintenanceQueued.set(false);
        try {
          if (needsFlush()) {
            flush();
          }
          mergeIfNeeded();
        } catch (IOException | RuntimeException e) {
          if (!closed) {
            LOG.error("{}: background flush/merge failed; will retry on the next write", path, e);
          }
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      maintenanceQueued.set(false);
    }
  }

  private boolean needsFlush() {
    lock.readLock().lock();
    try {
      return buffer.rows >= options.flushRows();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Writes the buffer as a segment and commits; a no-op on an empty buffer. */
  public void flush() throws IOException {
    maintenance.lock();
    try {
      ensureOpen();
      flushLocked();
    } finally {
      maintenance.unlock();
    }
  }

  /**
   * Freezes the buffer and writes it as a segment. If a previous attempt failed, its frozen
   * buffer is retried first (its rows are only in the log and in memory, and the log checkpoint
   * stays at it until it is committed). Caller holds the maintenance lock.
   */
  private void flushLocked() throws IOException {
    Buffer b;
    IvfPqCodebook cb;
    int cbv;
    byte[] segId = StringHelper.randomId();
    lock.writeLock().lock();
    try {
      if (frozen == null) {
        if (buffer.rows == 0) {
          return;
        }
        long gen = wal.roll();
        frozen = buffer;
        buffer = new Buffer(nextSegment++, gen, dim, similarity, options.attributeDecoder());
      }
      b = frozen;
      cbv = codebookVersion;
      cb = cbv > 0 ? codebooks.get(cbv) : null;
    } finally {
      lock.writeLock().unlock();
    }
    Segment seg;
    try {
      SegmentWriter.write(dir, b.number, segId, dim, b.source(), cb, cbv);
      seg = Segment.open(dir, path, new Manifest.SegmentInfo(b.number, segId, b.rows, cbv, 0, 0),
          dim, similarity, codebooks::get);
    } catch (IOException | RuntimeException e) {
      // Keep serving from the frozen buffer and retry later; remove what was half written.
      for (String ext : new String[] {"vec", "ids", "ivf"}) {
        StoreFiles.deleteQuietly(dir, StoreFiles.segment(b.number, ext));
      }
      LOG.error("{}: flush of segment {} failed", path, b.number, e);
      throw e;
    }
    lock.writeLock().lock();
    try {
      RoaringBitmap dels = frozen.deletes.clone();
      seg.deletes = dels;
      seg.dirty = !dels.isEmpty();
      segments.add(seg);
      byNumber.put(seg.number, seg);
      frozen = null;
      commitLocked();
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Merges segments if the policy asks for it. */
  public void mergeIfNeeded() throws IOException {
    maintenance.lock();
    try {
      ensureOpen();
      List<Segment> pick = pickMerge();
      if (!pick.isEmpty()) {
        mergeLocked(pick);
      }
    } finally {
      maintenance.unlock();
    }
  }

  /** Merges every segment into one with only live rows, if there is anything to reclaim. */
  public void forceMerge() throws IOException {
    maintenance.lock();
    try {
      ensureOpen();
      flushLocked();
      List<Segment> all;
      lock.readLock().lock();
      try {
        all = new ArrayList<>(segments);
      } finally {
        lock.readLock().unlock();
      }
      if (all.size() > 1 || (all.size() == 1 && !all.get(0).deletes.isEmpty())) {
        mergeLocked(all);
      }
    } finally {
      maintenance.unlock();
    }
  }

  private List<Segment> pickMerge() {
    lock.readLock().lock();
    try {
      List<Segment> pick = new ArrayList<>();
      for (Segment s : segments) {
        if (s.deletes.getCardinality() >= options.mergeDeletedRatio() * s.size
            || (codebookVersion > 0 && s.codebookVersion != codebookVersion)) {
          pick.add(s);
        }
      }
      if (segments.size() - pick.size() > options.maxSegments()) {
        List<Segment> bySize = new ArrayList<>(segments);
        bySize.removeAll(pick);
        bySize.sort(Comparator.comparingInt(Segment::liveCount));
        int extra = segments.size() - pick.size() - options.maxSegments() + 1;
        pick.addAll(bySize.subList(0, Math.min(bySize.size(), Math.max(2, extra))));
      }
      return pick;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Rewrites {@code sources} as one segment of their live rows; caller holds maintenance. */
  private void mergeLocked(List<Segment> sources) throws IOException {
    int cbv;
    IvfPqCodebook cb;
    lock.readLock().lock();
    try {
      cbv = codebookVersion;
      cb = cbv > 0 ? codebooks.get(cbv) : null;
    } finally {
      lock.readLock().unlock();
    }
    mergeLocked(sources, cb, cbv, 0, null);
  }

  private void mergeLocked(List<Segment> sources, IvfPqCodebook cb, int cbv, long newBuildTime,
      SegmentWriter.EncodeListener listener) throws IOException {
    List<RoaringBitmap> dels = new ArrayList<>();
    long number;
    lock.writeLock().lock();
    try {
      for (Segment s : sources) {
        s.incRef();
        dels.add(s.deletes);
      }
      number = nextSegment++;
    } finally {
      lock.writeLock().unlock();
    }
    try {
      // Live rows at the start; later deletes are found through the id map at the swap.
      int total = 0;
      for (int i = 0; i < sources.size(); i++) {
        total += sources.get(i).size - dels.get(i).getCardinality();
      }
      int[] srcSeg = new int[total];
      int[] srcOrd = new int[total];
      int at = 0;
      for (int i = 0; i < sources.size(); i++) {
        Segment s = sources.get(i);
        for (int r = 0; r < s.size; r++) {
          if (!dels.get(i).contains(r)) {
            srcSeg[at] = i;
            srcOrd[at++] = r;
          }
        }
      }
      Segment merged = null;
      if (total > 0) {
        byte[] segId = StringHelper.randomId();
        boolean written = false;
        try {
        int n = total;
        SegmentWriter.write(dir, number, segId, dim, new SegmentWriter.RowSource() {
          @Override
          public int size() {
            return n;
          }

          @Override
          public String id(int row) {
            return sources.get(srcSeg[row]).ids[srcOrd[row]];
          }

          @Override
          public byte[] attributes(int row) {
            return sources.get(srcSeg[row]).attributes[srcOrd[row]];
          }

          @Override
          public void vector(int row, float[] dst, int offset) {
            sources.get(srcSeg[row]).vector(srcOrd[row], dst, offset);
          }
        }, cb, cbv, listener);
        Map<Integer, IvfPqCodebook> with = new HashMap<>(codebooksCopy());
        if (cb != null) {
          with.put(cbv, cb);
        }
        merged = Segment.open(dir, path, new Manifest.SegmentInfo(number, segId, n, cbv, 0, 0),
            dim, similarity, with::get);
        written = true;
        } finally {
          if (!written) {
            // Cancelled or failed: nothing refers to these files.
            for (String ext : new String[] {"vec", "ids", "ivf"}) {
              StoreFiles.deleteQuietly(dir, StoreFiles.segment(number, ext));
            }
          }
        }
      }
      lock.writeLock().lock();
      try {
        if (merged != null) {
          RoaringBitmap dead = new RoaringBitmap();
          for (int r = 0; r < merged.size; r++) {
            Segment src = sources.get(srcSeg[r]);
            long was = pack(src.number, srcOrd[r]);
            Long now = locations.get(merged.ids[r]);
            if (now != null && now == was) {
              locations.put(merged.ids[r], pack(number, r));
            } else {
              dead.add(r);
            }
          }
          merged.deletes = dead;
          merged.dirty = !dead.isEmpty();
        }
        Set<Segment> drop = new HashSet<>(sources);
        int pos = segments.indexOf(sources.get(0));
        segments.removeIf(drop::contains);
        for (Segment s : sources) {
          byNumber.remove(s.number);
        }
        if (merged != null) {
          segments.add(Math.min(pos, segments.size()), merged);
          byNumber.put(number, merged);
        }
        if (cb != null && cbv != codebookVersion) {
          codebooks.put(cbv, cb);
          codebookVersion = cbv;
        }
        if (newBuildTime > 0) {
          buildTime = newBuildTime;
        }
        commitLocked();
        for (Segment s : sources) {
          s.markObsolete();
          s.decRef(); // the collection's reference
        }
      } finally {
        lock.writeLock().unlock();
      }
    } finally {
      for (Segment s : sources) {
        s.decRef(); // this merge's reference
      }
    }
  }

  private Map<Integer, IvfPqCodebook> codebooksCopy() {
    lock.readLock().lock();
    try {
      return new HashMap<>(codebooks);
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Trains the spec's quantizers on up to {@code maxTrainingRows} live vectors (a seeded
   * sample), stores them as a new codebook version, re-encodes every row into one segment and
   * commits. Searches and writes go on meanwhile. A Flat spec just merges.
   *
   * @throws IllegalArgumentException if training rejects the vectors
   */
  public BuildResult build(IndexFactory.BuildOptions buildOptions, int maxTrainingRows)
      throws IOException {
    maintenance.lock();
    try {
      ensureOpen();
      buildOptions.checkCancelled();
      flushLocked();
      List<Segment> sources;
      lock.writeLock().lock();
      try {
        sources = new ArrayList<>(segments);
        for (Segment s : sources) {
          s.incRef();
        }
      } finally {
        lock.writeLock().unlock();
      }
      try {
        int live = 0;
        for (Segment s : sources) {
          live += s.liveCount();
        }
        IvfPqCodebook cb = null;
        int sample = 0;
        int cbv = 0;
        if (!(spec.isFlat() && !spec.hasIvf())) {
          FloatMatrix training = sample(sources, Math.min(live, maxTrainingRows),
              buildOptions.seed());
          sample = training.rows();
          VectorIndex trained = IndexFactory.create(spec, dim, similarity, training,
              buildOptions);
          IvfPqIndex ivf = (IvfPqIndex) trained;
          cb = IvfPqCodebook.of(ivf);
          RawVectors tmp = IvfPqCodebook.rawOf(ivf);
          if (tmp != null) {
            tmp.close();
            if (tmp instanceof MappedRawVectors m) {
              Files.deleteIfExists(m.file());
            }
          }
          buildOptions.checkCancelled();
          cbv = codebookVersion() + 1;
          CodebookFile.write(dir, cbv, cb);
        }
        mergeLocked(sources, cb, cbv, System.currentTimeMillis(), (c, n) -> {
          buildOptions.steps().onStep(ENCODE_TASK, c, n, Double.NaN);
          buildOptions.checkCancelled();
        });
        return new BuildResult(sample, cbv, live);
      } finally {
        for (Segment s : sources) {
          s.decRef();
        }
      }
    } finally {
      maintenance.unlock();
    }
  }

  /** A seeded uniform sample of {@code n} live rows of {@code sources}. */
  private FloatMatrix sample(List<Segment> sources, int n, long seed) {
    // Reservoir over (segment, ordinal) of live rows.
    int[] pickSeg = new int[n];
    int[] pickOrd = new int[n];
    Random rnd = new Random(seed);
    int seen = 0;
    for (int i = 0; i < sources.size(); i++) {
      Segment s = sources.get(i);
      RoaringBitmap del = s.deletes;
      for (int r = 0; r < s.size; r++) {
        if (del.contains(r)) {
          continue;
        }
        if (seen < n) {
          pickSeg[seen] = i;
          pickOrd[seen] = r;
        } else {
          int j = rnd.nextInt(seen + 1);
          if (j < n) {
            pickSeg[j] = i;
            pickOrd[j] = r;
          }
        }
        seen++;
      }
    }
    int rows = Math.min(n, seen);
    float[] x = new float[Math.multiplyExact(rows, dim)];
    for (int j = 0; j < rows; j++) {
      sources.get(pickSeg[j]).vector(pickOrd[j], x, j * dim);
    }
    return new FloatMatrix(rows, dim, x);
  }

  /**
   * Commits the current state: syncs the log (so no committed deletion comes from an
   * unsynced, possibly torn record), writes deletion generations of changed segments, and
   * publishes {@code manifest_N+1}. Caller holds the write lock.
   */
  private void commitLocked() throws IOException {
    wal.sync();
    List<String> obsolete = new ArrayList<>();
    List<Manifest.SegmentInfo> infos = new ArrayList<>();
    for (Segment s : segments) {
      if (s.dirty) {
        long gen = s.delGen + 1;
        RoaringBitmap d = s.deletes;
        DeletesFile.write(dir, StoreFiles.deletes(s.number, gen), s.id, s.size, d);
        String old = s.deletesFile();
        if (old != null) {
          obsolete.add(old);
        }
        s.delGen = gen;
        s.committedDelCount = d.getCardinality();
        s.dirty = false;
      }
      infos.add(s.info());
    }
    long checkpoint = frozen != null ? frozen.walGen : buffer.walGen;
    Manifest m = new Manifest(manifestGen + 1, dim, similarity, spec, createTime, buildTime,
        codebookVersion, checkpoint, nextSegment, infos);
    m.commit(dir);
    long oldGen = manifestGen;
    manifestGen = m.generation();
    StoreFiles.deleteQuietly(dir, StoreFiles.manifest(oldGen));
    for (String f : obsolete) {
      StoreFiles.deleteQuietly(dir, f);
    }
    for (String name : dir.listAll()) {
      long g = StoreFiles.walGeneration(name);
      if (g >= 0 && g < checkpoint) {
        StoreFiles.deleteQuietly(dir, name);
      }
      if (name.startsWith("codebook_")) {
        int v = Integer.parseInt(name.substring("codebook_".length()));
        if (v != codebookVersion && segments.stream().noneMatch(s -> s.codebookVersion == v)) {
          StoreFiles.deleteQuietly(dir, name);
          codebooks.remove(v);
        }
      }
    }
  }

  /** Commits the current state (the buffer stays in the log). */
  public void commit() throws IOException {
    maintenance.lock();
    try {
      lock.writeLock().lock();
      try {
        ensureOpen();
        commitLocked();
      } finally {
        lock.writeLock().unlock();
      }
    } finally {
      maintenance.unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Backup

  /**
   * Copies a consistent commit of this collection into the empty or missing directory {@code
   * target}: the committed files plus the log up to now, so the copy opens with every write
   * acknowledged before this call. Writes go on meanwhile; flushes and merges wait (and the
   * backup waits for a running build).
   */
  public BackupResult backup(Path target) throws IOException {
    if (Files.exists(target)) {
      try (var s = Files.list(target)) {
        if (s.findAny().isPresent()) {
          throw new IllegalArgumentException("backup target " + target + " is not empty");
        }
      }
    }
    Files.createDirectories(target);
    maintenance.lock();
    try {
      Map<String, Long> files = new HashMap<>();
      long live;
      long gen;
      lock.writeLock().lock();
      try {
        ensureOpen();
        commitLocked();
        live = liveCount;
        gen = manifestGen;
        files.put(StoreFiles.manifest(manifestGen), -1L);
        if (codebookVersion > 0) {
          files.put(StoreFiles.codebook(codebookVersion), -1L);
        }
        for (Segment s : segments) {
          for (String f : s.files()) {
            files.put(f, -1L);
          }
          String del = s.deletesFile();
          if (del != null) {
            files.put(del, -1L);
          }
          if (s.codebookVersion > 0) {
            files.put(StoreFiles.codebook(s.codebookVersion), -1L);
          }
        }
        long current = wal.generation();
        for (String name : dir.listAll()) {
          long g = StoreFiles.walGeneration(name);
          if (g >= 0 && g < current) {
            files.put(name, -1L);
          }
        }
        files.put(StoreFiles.wal(current), wal.position());
      } finally {
        lock.writeLock().unlock();
      }
      long bytes = 0;
      List<BackupFile.Entry> written = new ArrayList<>(files.size());
      try (Directory out = FSDirectory.open(target)) {
        for (Map.Entry<String, Long> e : files.entrySet()) {
          Path dst = target.resolve(e.getKey());
          long crc = copy(path.resolve(e.getKey()), dst, e.getValue());
          long len = Files.size(dst);
          written.add(new BackupFile.Entry(e.getKey(), len, crc));
          bytes += len;
        }
        out.sync(files.keySet());
        // Last: its presence marks the backup complete.
        BackupFile.write(out, written);
        out.syncMetaData();
        bytes += Files.size(target.resolve(BackupFile.NAME));
      }
      return new BackupResult(files.size() + 1, bytes, live, gen);
    } finally {
      maintenance.unlock();
    }
  }

  /** Whether {@code path} holds a complete backup made by {@link #backup}. */
  public static boolean isBackup(Path path) throws IOException {
    return exists(path) && Files.isRegularFile(path.resolve(BackupFile.NAME));
  }

  /**
   * Restores a backup made by {@link #backup} into the empty or missing directory {@code
   * target}: every file its table of contents lists is copied and checked against the length
   * and CRC32 recorded there; then the copy is opened (every file's own checksum verified) and
   * returned. On failure {@code target} may hold part of the copy; the caller removes it.
   *
   * @throws IllegalArgumentException if {@code backup} holds no complete backup, or {@code
   *     target} already holds a collection
   * @throws CorruptIndexException naming the backup's file that is missing or damaged
   */
  public static CollectionStore restore(Path backup, Path target, Options options)
      throws IOException {
    if (!isBackup(backup)) {
      throw new IllegalArgumentException(backup + " is not a complete collection backup (no"
          + " manifest_N and " + BackupFile.NAME + " files)");
    }
    if (exists(target)) {
      throw new IllegalArgumentException("restore target " + target + " already holds a"
          + " collection");
    }
    List<BackupFile.Entry> entries;
    try (Directory in = FSDirectory.open(backup)) {
      entries = BackupFile.read(in);
    }
    Files.createDirectories(target);
    List<String> names = new ArrayList<>();
    for (BackupFile.Entry e : entries) {
      Path src = backup.resolve(e.name());
      if (!Files.isRegularFile(src)) {
        throw new CorruptIndexException("file listed in " + BackupFile.NAME + " is missing",
            src.toString());
      }
      long len = Files.size(src);
      if (len != e.length()) {
        throw new CorruptIndexException("length " + len + " but the backup recorded "
            + e.length() + ": truncated or changed?", src.toString());
      }
      long crc = copy(src, target.resolve(e.name()), -1);
      if (crc != e.crc32()) {
        throw new CorruptIndexException("checksum failed: crc32 " + Long.toHexString(crc)
            + " but the backup recorded " + Long.toHexString(e.crc32()), src.toString());
      }
      names.add(e.name());
    }
    try (Directory d = FSDirectory.open(target)) {
      d.sync(names);
      d.syncMetaData();
    }
    return open(target, options);
  }

  /**
   * Copies the first {@code length} bytes of {@code src} (all when negative) into the new file
   * {@code dst}; returns their CRC32.
   */
  private static long copy(Path src, Path dst, long length) throws IOException {
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1 << 20);
    try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ);
        FileChannel out = FileChannel.open(dst, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE)) {
      long left = length < 0 ? in.size() : length;
      while (left > 0) {
        buf.clear().limit((int) Math.min(buf.capacity(), left));
        int n = in.read(buf);
        if (n < 0) {
          throw new java.io.EOFException(src + " ended " + left + " bytes early");
        }
        buf.flip();
        crc.update(buf.duplicate());
        while (buf.hasRemaining()) {
          out.write(buf);
        }
        left -= n;
      }
    }
    return crc.getValue();
  }

  // ---------------------------------------------------------------------------------------------
  // Life cycle

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("collection store " + path + " is closed");
    }
  }

  private void ensureOpenUnchecked() {
    if (closed) {
      throw new IllegalStateException("collection store " + path + " is closed");
    }
  }

  /** Flushes the buffer (so a restart replays little) and closes. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    if (background != null) {
      background.shutdown();
    }
    maintenance.lock();
    try {
      if (closed) {
        return;
      }
      try {
        flushLocked();
      } finally {
        closeQuietly();
      }
    } finally {
      maintenance.unlock();
    }
  }

  /** Closes without flushing: the log holds the buffer (as after a crash). */
  public void closeWithoutFlush() {
    closeQuietly();
  }

  private void closeQuietly() {
    lock.writeLock().lock();
    try {
      closed = true;
      if (background != null) {
        background.shutdownNow();
      }
      if (wal != null) {
        try {
          wal.close();
        } catch (IOException e) {
          LOG.warn("{}: closing the log failed", path, e);
        }
      }
      for (Segment s : segments) {
        s.decRef();
      }
      segments.clear();
      try {
        writeLock.close();
      } catch (IOException e) {
        LOG.warn("{}: releasing the directory lock failed", path, e);
      }
      try {
        dir.close();
      } catch (IOException e) {
        LOG.warn("{}: closing the directory failed", path, e);
      }
    } finally {
      lock.writeLock().unlock();
    }
    if (background != null) {
      try {
        background.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Closes and deletes the collection's directory: first renamed atomically to {@code
   * .deleted-NAME-N} beside it (so a crash never leaves a half-deleted collection that would fail
   * to open), then removed.
   */
  public void destroy() throws IOException {
    closeQuietly();
    Path gone = path.resolveSibling(".deleted-" + path.getFileName() + "-" + System.nanoTime());
    Files.move(path, gone, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    org.apache.lucene.util.IOUtils.fsync(path.toAbsolutePath().getParent(), true);
    deleteTree(gone);
  }

  /** Removes what {@link #destroy} renamed but did not finish deleting (after a crash). */
  public static void deleteLeftovers(Path parent) throws IOException {
    if (!Files.isDirectory(parent)) {
      return;
    }
    try (var s = Files.list(parent)) {
      for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".deleted-")).toList()) {
        deleteTree(p);
      }
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (var s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  @Override
  public String toString() {
    return "CollectionStore(" + path + ")";
  }

  // ---------------------------------------------------------------------------------------------
  // The mutable buffer

  /**
   * Recent rows not yet in a segment: values as upserted (for get and flush), an exact index
   * over them and their deletions; mutated under the collection's write lock, searched under its
   * read lock.
   */
  private static final class Buffer {
    final long number;
    final long walGen;
    final int dim;
    final ArrayList<String> ids = new ArrayList<>();
    final ArrayList<byte[]> attrs = new ArrayList<>();
    float[] values = new float[0];
    int rows;
    final FlatIndex flat;
    final RoaringBitmap deletes = new RoaringBitmap();
    final Function<byte[], Map<String, AttributeValue>> decoder;
    private AttributeIndex attributeIndex; // built on the first filtered search, then kept up

    Buffer(long number, long walGen, int dim, Similarity similarity,
        Function<byte[], Map<String, AttributeValue>> decoder) {
      this.decoder = decoder;
      this.number = number;
      this.walGen = walGen;
      this.dim = dim;
      this.flat = new FlatIndex(dim, similarity);
    }

    void append(List<String> newIds, float[] v, List<byte[]> a) {
      int n = newIds.size();
      long need = (long) (rows + n) * dim;
      ensureRoom(need);
      flat.add(new FloatMatrix(n, dim, v));
      System.arraycopy(v, 0, values, rows * dim, n * dim);
      ids.addAll(newIds);
      attrs.addAll(a);
      if (attributeIndex != null) {
        for (int i = 0; i < n; i++) {
          attributeIndex.add(rows + i, decoder.apply(a.get(i)));
        }
      }
      rows += n;
    }

    /** Caller holds the collection's read lock (first use races only with other readers). */
    synchronized AttributeIndex attributeIndex() {
      if (attributeIndex == null) {
        AttributeIndex idx = new AttributeIndex();
        for (int r = 0; r < rows; r++) {
          idx.add(r, decoder.apply(attrs.get(r)));
        }
        attributeIndex = idx;
      }
      return attributeIndex;
    }

    FloatMatrix rows(int[] ords) {
      float[] out = new float[Math.multiplyExact(ords.length, dim)];
      for (int i = 0; i < ords.length; i++) {
        System.arraycopy(values, ords[i] * dim, out, i * dim, dim);
      }
      return new FloatMatrix(ords.length, dim, out);
    }

    /** Grows the value array for {@code need} floats; fails before anything changed. */
    void ensureRoom(long need) {
      if (need > values.length) {
        long grown = Math.max(need, Math.min(Integer.MAX_VALUE - 8L, values.length * 3L / 2));
        if (need > Integer.MAX_VALUE - 8L) {
          // Flushes have fallen far behind (e.g. during a long build): push back on writers.
          throw new java.util.concurrent.RejectedExecutionException("write buffer full ("
              + rows + " vectors not yet flushed); retry after the running flush or build");
        }
        values = Arrays.copyOf(values, (int) grown);
      }
    }

    Row row(int ord, boolean withValues, boolean withAttrs) {
      return new Row(ids.get(ord),
          withValues ? Arrays.copyOfRange(values, ord * dim, (ord + 1) * dim) : null,
          withAttrs ? attrs.get(ord) : null);
    }

    SegmentWriter.RowSource source() {
      return new SegmentWriter.RowSource() {
        @Override
        public int size() {
          return rows;
        }

        @Override
        public String id(int row) {
          return ids.get(row);
        }

        @Override
        public byte[] attributes(int row) {
          return attrs.get(row);
        }

        @Override
        public void vector(int row, float[] dst, int offset) {
          System.arraycopy(values, row * dim, dst, offset, dim);
        }
      };
    }
  }

}
