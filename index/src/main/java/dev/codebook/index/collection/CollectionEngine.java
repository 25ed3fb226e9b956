package dev.codebook.index.collection;

import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.filter.AttributeIndex;
import dev.codebook.index.filter.Filter;
import dev.codebook.index.filter.FilteredSearch;
import dev.codebook.index.ivf.IvfPqIndex;
import dev.codebook.index.store.DirectoryLock;
import dev.codebook.index.store.Durability;
import dev.codebook.index.store.Manifest;
import dev.codebook.index.store.StoreFiles;
import dev.codebook.index.search.ScanStats;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.IOUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable collection in one directory, opened: the façade over the engine's parts (as
 * Lucene's {@code IndexWriter} is over {@code DocumentsWriter}, {@code SegmentInfos}, the merge
 * policy and scheduler, and {@code IndexFileDeleter}). It owns the life cycle (create, open and
 * recover, close, destroy) and hands every other call to the part whose job it is:
 *
 * <ul>
 *   <li>{@link CollectionWriter}: upserts and deletes (log, write buffer, id map);
 *   <li>{@link CollectionSearcher}: snapshot search and the merge of per-part hits;
 *   <li>{@link MaintenanceScheduler} with {@link FlushPolicy}, {@link MergePolicy}, {@link
 *       SegmentFlusher} and {@link SegmentMerger}: flushes and merges;
 *   <li>{@link IndexBuilder}: training and re-encoding; {@link CollectionBackup}: backup and
 *       restore; {@link Committer}: commit points and unreferenced files.
 * </ul>
 *
 * Ids are strings; attributes are opaque bytes (the server encodes them). The files are those
 * of {@link dev.codebook.index.store}; the package documentation describes the concurrency.
 *
 * <p><b>Opening</b> reads the newest manifest, verifies every file's checksum, loads the
 * segments and replays the log from the checkpoint. Any bad file fails with {@link
 * CorruptIndexException} naming it.
 */
public final class CollectionEngine implements Closeable {

  private static final Logger LOG = LoggerFactory.getLogger(CollectionEngine.class);

  /**
   * The task name a build reports its encoding steps under ({@link
   * IndexFactory.BuildOptions#steps}).
   */
  public static final String ENCODE_TASK = "encode";

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

  private final EngineState st;
  private final Committer committer;
  private final SegmentFlusher flusher;
  private final MaintenanceScheduler scheduler;
  private final CollectionWriter writer;
  private final CollectionSearcher searcher;
  private final IndexBuilder builder;
  private final CollectionBackup backups;
  private OpenStats openStats;

  private CollectionEngine(EngineState st) {
    this.st = st;
    CollectionOptions o = st.options;
    FlushPolicy flushPolicy = new FlushPolicy(o.flushRows());
    this.committer = new Committer(st);
    this.flusher = new SegmentFlusher(st, committer);
    SegmentMerger merger = new SegmentMerger(st, committer);
    this.scheduler = new MaintenanceScheduler(st, flusher, merger, flushPolicy,
        new MergePolicy(o.maxSegments(), o.mergeDeletedRatio()));
    this.writer = new CollectionWriter(st, scheduler, flushPolicy);
    this.searcher = new CollectionSearcher(st);
    this.builder = new IndexBuilder(st, flusher, merger);
    this.backups = new CollectionBackup(st, committer);
  }

  /**
   * Creates a collection in the empty or missing directory {@code path} and commits its first
   * manifest.
   *
   * @throws IllegalStateException if {@code path} already holds a collection
   */
  public static CollectionEngine create(Path path, int dimension, Similarity similarity,
      IndexSpec spec, CollectionOptions options) throws IOException {
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
      IOUtils.fsync(path.toAbsolutePath().getParent(), true);
      return open(path, dir, writeLock, options);
    } catch (IOException | RuntimeException e) {
      IOUtils.closeWhileHandlingException(writeLock, dir);
      throw e;
    }
  }

  /**
   * Opens the collection in {@code path}: newest manifest, codebooks, segments (every checksum
   * verified), then the log replayed.
   *
   * @throws CorruptIndexException naming the file when anything is damaged or missing
   */
  public static CollectionEngine open(Path path, CollectionOptions options) throws IOException {
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
      IOUtils.closeWhileHandlingException(writeLock, dir);
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

  private static CollectionEngine open(Path path, Directory dir, DirectoryLock writeLock,
      CollectionOptions options) throws IOException {
    long t0 = System.nanoTime();
    Manifest m = Manifest.readLatest(dir);
    if (m == null) {
      throw new CorruptIndexException("no manifest_N file: not a collection directory",
          path.toString());
    }
    CollectionEngine e = new CollectionEngine(new EngineState(path, dir, writeLock, m, options));
    boolean ok = false;
    try {
      e.openStats = Recovery.recover(e.st, e.committer, e.writer, m, t0);
      e.scheduler.maybeSchedule();
      ok = true;
      return e;
    } finally {
      if (!ok) {
        e.closeQuietly();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Accessors

  public Path path() {
    return st.path;
  }

  public int dimension() {
    return st.dim;
  }

  public Similarity similarity() {
    return st.similarity;
  }

  public IndexSpec spec() {
    return st.spec;
  }

  public long createTime() {
    return st.createTime;
  }

  /** Epoch ms of the last build, 0 if never built. */
  public long buildTime() {
    st.lock.readLock().lock();
    try {
      return st.buildTime;
    } finally {
      st.lock.readLock().unlock();
    }
  }

  /** Live vectors, without waiting for the lock. */
  public long liveCount() {
    return st.liveCount;
  }

  /** The current codebook version, 0 before the first build of an IVF-PQ spec. */
  public int codebookVersion() {
    st.lock.readLock().lock();
    try {
      return st.codebookVersion;
    } finally {
      st.lock.readLock().unlock();
    }
  }

  public Durability durability() {
    return st.options.durability();
  }

  public OpenStats openStats() {
    return openStats;
  }

  /** Committed segments (for tests and stats). */
  public int segmentCount() {
    st.lock.readLock().lock();
    try {
      return st.segments.size();
    } finally {
      st.lock.readLock().unlock();
    }
  }

  /** Rows held in segments and buffers, deleted ones included (for tests of merging). */
  public long storedRows() {
    st.lock.readLock().lock();
    try {
      long n = st.buffer.rows + (st.frozen == null ? 0 : st.frozen.rows);
      for (Segment s : st.segments) {
        n += s.size;
      }
      return n;
    } finally {
      st.lock.readLock().unlock();
    }
  }

  /** Rows in the mutable buffer (not yet in a segment). */
  public int bufferedRows() {
    st.lock.readLock().lock();
    try {
      return st.buffer.rows;
    } finally {
      st.lock.readLock().unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Writes and reads

  /**
   * Inserts or replaces rows, all or nothing; a later row with the same id wins. Returns once
   * the write is durable under the policy.
   *
   * @param values {@code ids.size() * dimension} floats as upserted; read during the call, not
   *     kept
   * @throws IllegalArgumentException for a non-finite value, (cosine) a zero vector or (dot
   *     product, L2) a vector too large to score in float; nothing is written
   * @throws IOException if the log cannot be written or synced (the write is not acknowledged)
   */
  public UpsertResult upsert(List<String> ids, float[] values, List<byte[]> attributes)
      throws IOException {
    return writer.upsert(ids, values, attributes);
  }

  /**
   * Deletes rows by id, all or nothing. Returns once durable.
   *
   * @param allowMissing skip ids that do not exist; when false and some are missing nothing is
   *     deleted and they are returned in {@link DeleteResult#missing}
   */
  public DeleteResult delete(List<String> ids, boolean allowMissing) throws IOException {
    return writer.delete(ids, allowMissing);
  }

  /** The rows of {@code ids} in that order; null for an id that does not exist. */
  public List<Row> get(List<String> ids) {
    st.lock.readLock().lock();
    try {
      st.ensureOpenUnchecked();
      List<Row> out = new ArrayList<>(ids.size());
      for (String id : ids) {
        long loc = st.idMap.get(id);
        out.add(loc == IdMap.NONE ? null : st.row(loc, true, true));
      }
      return out;
    } finally {
      st.lock.readLock().unlock();
    }
  }

  /**
   * The top {@code k} live rows for every query, best first, merged over the segments (their
   * index: IVF-PQ when encoded, else exact) and the buffers (exact).
   *
   * @param queries raw queries; checked here (dimension, finite values, normalizable for cosine)
   * @param cancelled polled between groups of 16 queries, and every {@link
   *     IvfPqIndex#CANCEL_CHECK_LISTS} lists inside a query's IVF-PQ scan
   * @throws NprobeOutOfRangeException if the collection is built with IVF and {@code params}
   *     probes more lists than it has
   * @throws CancellationException when {@code cancelled} turns true
   */
  public Hit[][] search(FloatMatrix queries, int k, SearchParams params, boolean withValues,
      boolean withAttributes, BooleanSupplier cancelled) {
    return searcher.search(queries, k, params, null, null, withValues, withAttributes,
        cancelled, new ScanStats());
  }

  /**
   * As {@link #search(FloatMatrix, int, SearchParams, boolean, boolean, BooleanSupplier)},
   * returning only rows whose attributes match {@code filter} (null: all). Each part of the
   * snapshot evaluates it on its own {@link AttributeIndex} (a segment's is built on first use
   * from its attributes through {@link CollectionOptions#attributeDecoder}) into a bitmap of
   * accepted local ordinals, and a {@link FilteredSearch} scores few accepted rows exactly and
   * otherwise widens the probe.
   */
  public Hit[][] search(FloatMatrix queries, int k, SearchParams params, Filter filter,
      boolean withValues, boolean withAttributes, BooleanSupplier cancelled) {
    return search(queries, k, params, filter, withValues, withAttributes, cancelled,
        new ScanStats());
  }

  /** As above, adding the call's work (codes scanned, vectors scored exactly) to {@code work}. */
  public Hit[][] search(FloatMatrix queries, int k, SearchParams params, Filter filter,
      boolean withValues, boolean withAttributes, BooleanSupplier cancelled, ScanStats work) {
    return searcher.search(queries, k, params, filter, null, withValues, withAttributes,
        cancelled, work);
  }

  /**
   * As {@link #search(FloatMatrix, int, SearchParams, boolean, boolean, BooleanSupplier)},
   * returning only rows whose attribute blob {@code filter} accepts ({@code null}: all). The
   * filter is evaluated once per part of the snapshot into a RoaringBitmap of accepted local
   * ordinals.
   */
  public Hit[][] search(FloatMatrix queries, int k, SearchParams params,
      Predicate<byte[]> filter, boolean withValues, boolean withAttributes,
      BooleanSupplier cancelled) {
    return searcher.search(queries, k, params, null, filter, withValues, withAttributes,
        cancelled, new ScanStats());
  }

  // ---------------------------------------------------------------------------------------------
  // Maintenance

  /** Writes the buffer as a segment and commits; a no-op on an empty buffer. */
  public void flush() throws IOException {
    scheduler.flush();
  }

  /** Merges segments if the policy asks for it. */
  public void mergeIfNeeded() throws IOException {
    scheduler.mergeIfNeeded();
  }

  /** Merges every segment into one with only live rows, if there is anything to reclaim. */
  public void forceMerge() throws IOException {
    scheduler.forceMerge();
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
    return builder.build(buildOptions, maxTrainingRows);
  }

  /** Commits the current state (the buffer stays in the log). */
  public void commit() throws IOException {
    st.maintenance.lock();
    try {
      st.lock.writeLock().lock();
      try {
        st.ensureOpen();
        committer.commit();
      } finally {
        st.lock.writeLock().unlock();
      }
    } finally {
      st.maintenance.unlock();
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
    return backups.backup(target);
  }

  /** Whether {@code path} holds a complete backup made by {@link #backup}. */
  public static boolean isBackup(Path path) throws IOException {
    return CollectionBackup.isBackup(path);
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
  public static CollectionEngine restore(Path backup, Path target, CollectionOptions options)
      throws IOException {
    CollectionBackup.restoreFiles(backup, target);
    return open(target, options);
  }

  // ---------------------------------------------------------------------------------------------
  // Life cycle

  /** Flushes the buffer (so a restart replays little) and closes. */
  @Override
  public void close() throws IOException {
    if (st.closed) {
      return;
    }
    scheduler.shutdown();
    st.maintenance.lock();
    try {
      if (st.closed) {
        return;
      }
      try {
        flusher.flush();
      } finally {
        closeQuietly();
      }
    } finally {
      st.maintenance.unlock();
    }
  }

  /** Closes without flushing: the log holds the buffer (as after a crash). */
  public void closeWithoutFlush() {
    closeQuietly();
  }

  private void closeQuietly() {
    st.lock.writeLock().lock();
    try {
      st.closed = true;
      scheduler.shutdownNow();
      if (st.wal != null) {
        try {
          st.wal.close();
        } catch (IOException e) {
          LOG.warn("{}: closing the log failed", st.path, e);
        }
      }
      for (Segment s : st.segments) {
        s.decRef();
      }
      st.segments.clear();
      try {
        st.writeLock.close();
      } catch (IOException e) {
        LOG.warn("{}: releasing the directory lock failed", st.path, e);
      }
      try {
        st.dir.close();
      } catch (IOException e) {
        LOG.warn("{}: closing the directory failed", st.path, e);
      }
    } finally {
      st.lock.writeLock().unlock();
    }
    scheduler.awaitTermination();
  }

  /**
   * Closes and deletes the collection's directory: first renamed atomically to {@code
   * .deleted-NAME-N} beside it (so a crash never leaves a half-deleted collection that would fail
   * to open), then removed.
   */
  public void destroy() throws IOException {
    closeQuietly();
    Path gone = st.path.resolveSibling(".deleted-" + st.path.getFileName() + "-"
        + System.nanoTime());
    Files.move(st.path, gone, StandardCopyOption.ATOMIC_MOVE);
    IOUtils.fsync(st.path.toAbsolutePath().getParent(), true);
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
    return "CollectionEngine(" + st.path + ")";
  }
}
