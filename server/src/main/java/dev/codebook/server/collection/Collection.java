package dev.codebook.server.collection;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.codebook.api.v1.AttributeValue;
import dev.codebook.api.v1.Vector;
import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.filter.Filter;
import dev.codebook.index.collection.CollectionEngine;
import dev.codebook.index.collection.NprobeOutOfRangeException;
import dev.codebook.index.search.ScanStats;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * A named collection: its schema (dimension, similarity, index spec) and its vectors, kept
 * durably by a {@link CollectionEngine} in its own directory (segments, a write-ahead log, a
 * manifest; see that class for the format and the concurrency rules).
 *
 * <p><b>Ordinals.</b> Rows have per-segment ordinals; within one search snapshot a row's global
 * ordinal is its segment's base (segments in order, then the buffers) plus its local ordinal, so
 * a RoaringBitmap accept-set over global ordinals maps to each segment by subtracting the base.
 * Deletes are per-segment RoaringBitmap tombstones the scan skips.
 *
 * <p><b>States.</b> UNTRAINED until the first build: searches are exact over every segment and
 * the buffer. {@link #build} trains the spec's codebook on the live vectors, re-encodes every
 * segment with it and commits; searches and writes go on meanwhile (BUILDING). READY after: each
 * segment is searched through IVF-PQ, unflushed writes exactly, and the results merged.
 *
 * <p><b>Attributes</b> are stored as the serialized attribute map of a {@code codebook.v1.Vector}.
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
  public static final String ENCODE_TASK = CollectionEngine.ENCODE_TASK;

  /** Most vectors a build trains its quantizers on (a seeded sample of the live ones). */
  public static final int MAX_TRAINING_VECTORS = 100_000;

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

  /** Outcome of {@link #backup}. */
  public record BackupResult(int files, long bytes, long vectorCount, long manifestGeneration) {}

  /** A consistent view of the mutable metadata. */
  public record Info(long vectorCount, State state, Instant buildTime) {}

  private final String id;
  private final CollectionEngine engine;
  private final int dimension;
  private final Similarity similarity;
  private final IndexSpec spec;
  private final Instant createTime;
  private final AtomicBoolean building = new AtomicBoolean();
  private volatile boolean deleted;

  Collection(String id, CollectionEngine engine) {
    this.id = Objects.requireNonNull(id, "id");
    this.engine = Objects.requireNonNull(engine, "engine");
    this.dimension = engine.dimension();
    this.similarity = engine.similarity();
    this.spec = engine.spec();
    this.createTime = Instant.ofEpochMilli(engine.createTime());
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

  /** The engine behind this collection (its directory, durability, stats). */
  public CollectionEngine engine() {
    return engine;
  }

  /** Live vector count, state and build time, without waiting for a lock. */
  public Info info() {
    long built = engine.buildTime();
    State state = building.get() ? State.BUILDING : built > 0 ? State.READY : State.UNTRAINED;
    return new Info(engine.liveCount(), state, built > 0 ? Instant.ofEpochMilli(built) : null);
  }

  /**
   * Inserts or replaces vectors; all or nothing. A later entry for the same id wins. Returns once
   * the write is durable under the server's durability policy.
   *
   * @param newIds one id per row of {@code values}
   * @param values the vectors, already checked (dimension, finite, non-zero for cosine)
   * @param attrs one attribute map per row (empty for none)
   * @throws UncheckedIOException if the write-ahead log cannot be written (not acknowledged)
   */
  public UpsertResult upsert(
      List<String> newIds, FloatMatrix values, List<Map<String, AttributeValue>> attrs) {
    int n = values.rows();
    if (newIds.size() != n || attrs.size() != n) {
      throw new IllegalArgumentException(
          newIds.size() + " ids and " + attrs.size() + " attribute maps for " + n + " vectors");
    }
    checkDimension(values.dim(), "vectors");
    checkNotDeleted();
    List<byte[]> blobs = new ArrayList<>(n);
    for (Map<String, AttributeValue> a : attrs) {
      blobs.add(encode(a));
    }
    float[] data = values.data();
    if (values.offset(0) != 0 || data.length != n * dimension) {
      data = Arrays.copyOfRange(data, values.offset(0), values.offset(0) + n * dimension);
    }
    try {
      CollectionEngine.UpsertResult r = engine.upsert(newIds, data, blobs);
      return new UpsertResult(r.upserted(), r.replaced(), r.liveCount());
    } catch (IOException e) {
      throw storageFailure("upsert", e);
    } catch (IllegalStateException e) {
      throw gone(e);
    }
  }

  /**
   * Deletes vectors by id; all or nothing.
   *
   * @param allowMissing skip ids that do not exist instead of failing
   * @throws VectorsNotFoundException if ids are missing and {@code allowMissing} is false
   */
  public DeleteResult delete(List<String> deleteIds, boolean allowMissing) {
    checkNotDeleted();
    try {
      CollectionEngine.DeleteResult r = engine.delete(deleteIds, allowMissing);
      if (!r.missing().isEmpty()) {
        throw new VectorsNotFoundException(name(), r.missing());
      }
      return new DeleteResult(r.deleted(), r.liveCount());
    } catch (IOException e) {
      throw storageFailure("delete", e);
    } catch (IllegalStateException e) {
      throw gone(e);
    }
  }

  /**
   * The stored vectors of {@code getIds}, in that order.
   *
   * @throws VectorsNotFoundException if any id does not exist
   */
  public List<StoredVector> get(List<String> getIds) {
    checkNotDeleted();
    List<CollectionEngine.Row> rows;
    try {
      rows = engine.get(getIds);
    } catch (IllegalStateException e) {
      throw gone(e);
    }
    List<String> missing = new ArrayList<>();
    List<StoredVector> out = new ArrayList<>(getIds.size());
    for (int i = 0; i < rows.size(); i++) {
      CollectionEngine.Row r = rows.get(i);
      if (r == null) {
        missing.add(getIds.get(i));
      } else {
        out.add(new StoredVector(r.id(), r.values(), decode(r.attributes())));
      }
    }
    if (!missing.isEmpty()) {
      throw new VectorsNotFoundException(name(), missing);
    }
    return out;
  }

  /**
   * Searches the top {@code k} live vectors of every query, best first.
   *
   * @param queries the queries; the engine checks them (dimension, finite, normalizable) and k;
   *     not modified
   * @param cancelled polled between groups of {@value #QUERIES_PER_CANCELLATION_CHECK} queries
   *     and inside a query's IVF-PQ scan
   * @throws CancellationException when {@code cancelled} turns true
   * @throws InvalidFieldException for an nprobe larger than the built index's nlist
   */
  public Hit[][] search(FloatMatrix queries, int k, SearchParams params, boolean withValues,
      boolean withAttributes, BooleanSupplier cancelled) {
    return search(queries, k, params, null, withValues, withAttributes, cancelled);
  }

  /**
   * As {@link #search(FloatMatrix, int, SearchParams, boolean, boolean, BooleanSupplier)},
   * returning only vectors whose attributes match {@code filter} (null: all). Each segment and
   * the buffer evaluate it on their own attribute index into a bitmap of accepted ordinals; a
   * {@link dev.codebook.index.filter.FilteredSearch} then scores few accepted rows exactly and
   * otherwise widens the probe.
   *
   * @throws dev.codebook.index.filter.FilterException when a comparison's kind cannot match the
   *     attribute's values
   */
  public Hit[][] search(FloatMatrix queries, int k, SearchParams params, Filter filter,
      boolean withValues, boolean withAttributes, BooleanSupplier cancelled) {
    return search(queries, k, params, filter, withValues, withAttributes, cancelled,
        new ScanStats());
  }

  /** As above, adding the call's work (codes scanned, vectors scored exactly) to {@code work}. */
  public Hit[][] search(FloatMatrix queries, int k, SearchParams params, Filter filter,
      boolean withValues, boolean withAttributes, BooleanSupplier cancelled, ScanStats work) {
    checkNotDeleted();
    // The engine checks k, the queries and nprobe, once; here only its refusal is named.
    CollectionEngine.Hit[][] hits;
    try {
      hits = engine.search(queries, k, params, filter, withValues, withAttributes, cancelled,
          work);
    } catch (NprobeOutOfRangeException e) {
      throw new InvalidFieldException("nprobe", InvalidFieldException.OUT_OF_RANGE,
          "nprobe " + e.nprobe() + " exceeds nlist " + e.nlist() + " of " + name()
              + " (" + spec + "); use 1 to " + e.nlist());
    } catch (IllegalStateException e) {
      throw gone(e);
    }
    Hit[][] out = new Hit[hits.length][];
    for (int q = 0; q < hits.length; q++) {
      out[q] = new Hit[hits[q].length];
      for (int j = 0; j < hits[q].length; j++) {
        CollectionEngine.Hit h = hits[q][j];
        out[q][j] = new Hit(h.id(), h.score(), h.values(),
            withAttributes ? decode(h.attributes()) : Map.of());
      }
    }
    return out;
  }

  /**
   * Trains the spec on (a sample of) the live vectors, re-encodes every segment with the new
   * codebook and commits. Searches and writes continue meanwhile; synchronous: returns when the
   * collection is READY. {@code options} carries the progress hook (encoding reported as task
   * {@value #ENCODE_TASK}) and the cancel flag: a cancelled build throws CancellationException
   * and leaves the collection as it was.
   *
   * @throws CollectionStateException if a build is running, or there are too few vectors to
   *     train on, or training rejects them
   */
  public BuildResult build(IndexFactory.BuildOptions options) {
    long start = System.nanoTime();
    checkNotDeleted();
    if (!building.compareAndSet(false, true)) {
      throw new CollectionStateException(CollectionStateException.BUILD_RUNNING,
          "a build of " + name() + " is already running; wait for it to finish");
    }
    try {
      int min = minTrainingVectors(spec);
      long live = engine.liveCount();
      if (live < min) {
        throw new CollectionStateException(CollectionStateException.TOO_FEW_VECTORS,
            name() + " has " + live + " vectors; " + spec + " needs at least " + min
                + " to train on");
      }
      CollectionEngine.BuildResult r;
      try {
        r = engine.build(options, MAX_TRAINING_VECTORS);
      } catch (IllegalArgumentException e) {
        throw new CollectionStateException("TRAINING_FAILED",
            "cannot train " + spec + " on the " + live + " vectors of " + name() + ": "
                + e.getMessage());
      } catch (IOException e) {
        throw storageFailure("build", e);
      }
      int trained = r.trainingVectors() > 0 ? r.trainingVectors() : r.vectors();
      return new BuildResult(trained, Duration.ofNanos(System.nanoTime() - start));
    } finally {
      building.set(false);
    }
  }

  /** Flushes buffered writes into a segment and merges away every deleted row. */
  public void compact() {
    checkNotDeleted();
    try {
      engine.forceMerge();
    } catch (IOException e) {
      throw storageFailure("compact", e);
    }
  }

  /**
   * Copies a consistent snapshot into {@code target} (see {@link CollectionEngine#backup}): the
   * engine commits and copies under its maintenance lock, so every write acknowledged before
   * this call is in the copy and writes and searches go on meanwhile. A failed backup removes
   * what it wrote.
   *
   * @param target a missing or empty directory
   * @throws CollectionStateException if {@code target} is a file or a directory that is not
   *     empty
   */
  public BackupResult backup(Path target) {
    checkNotDeleted();
    boolean existed = Files.exists(target);
    checkEmptyDirectory(target);
    try {
      CollectionEngine.BackupResult r = engine.backup(target);
      return new BackupResult(r.files(), r.bytes(), r.liveCount(), r.manifestGeneration());
    } catch (IllegalArgumentException e) { // filled by someone else meanwhile
      throw new CollectionStateException(CollectionStateException.BACKUP_TARGET_NOT_EMPTY,
          e.getMessage());
    } catch (IOException e) {
      removeQuietly(target, existed);
      if (deleted) {
        throw new CollectionNotFoundException(name());
      }
      if (e instanceof java.nio.file.FileSystemException f && f.getFile() != null
          && Path.of(f.getFile()).startsWith(target)) {
        // The target refused the copy (permissions, a read-only or pseudo file system):
        // retrying the same call cannot help, so not UNAVAILABLE.
        throw new CollectionStateException(CollectionStateException.BACKUP_TARGET_UNWRITABLE,
            "cannot write the backup into " + target + ": " + e);
      }
      throw storageFailure("backup to " + target, e);
    } catch (RuntimeException e) {
      removeQuietly(target, existed);
      throw e instanceof IllegalStateException ise ? gone(ise) : e;
    }
  }

  private static void checkEmptyDirectory(Path target) {
    if (!Files.exists(target)) {
      return;
    }
    String why = null;
    if (!Files.isDirectory(target)) {
      why = "backup target " + target + " exists and is not a directory";
    } else {
      try (var s = Files.list(target)) {
        if (s.findAny().isPresent()) {
          why = "backup target " + target + " is not empty; back up into a new or empty"
              + " directory";
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list backup target " + target, e);
      }
    }
    if (why != null) {
      throw new CollectionStateException(CollectionStateException.BACKUP_TARGET_NOT_EMPTY, why);
    }
  }

  /** Removes a failed backup's files (the directory was empty or missing before it). */
  private static void removeQuietly(Path target, boolean keepDirectory) {
    try (var s = Files.walk(target)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        if (!keepDirectory || !p.equals(target)) {
          Files.deleteIfExists(p);
        }
      }
    } catch (IOException | UncheckedIOException e) {
      // best effort: the error that made the backup fail is the one reported
    }
  }

  /** Vectors held including deleted ones not yet reclaimed (for tests of compaction). */
  long storedVectors() {
    return engine.storedRows();
  }

  /** Marks the collection deleted: later calls on this object answer NOT_FOUND. */
  void markDeleted() {
    deleted = true;
  }

  static byte[] encode(Map<String, AttributeValue> attrs) {
    return attrs.isEmpty() ? new byte[0]
        : Vector.newBuilder().putAllAttributes(attrs).build().toByteArray();
  }

  static Map<String, AttributeValue> decode(byte[] blob) {
    if (blob == null || blob.length == 0) {
      return Map.of();
    }
    try {
      return Vector.parseFrom(blob).getAttributesMap();
    } catch (InvalidProtocolBufferException e) {
      throw new UncheckedIOException(new org.apache.lucene.index.CorruptIndexException(
          "stored attributes do not parse: " + e.getMessage(), "attributes", e));
    }
  }

  private UncheckedIOException storageFailure(String what, IOException e) {
    return new UncheckedIOException(what + " on " + name() + " failed in storage: "
        + e.getMessage(), e);
  }

  private RuntimeException gone(IllegalStateException e) {
    if (deleted) {
      return new CollectionNotFoundException(name());
    }
    return e;
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
