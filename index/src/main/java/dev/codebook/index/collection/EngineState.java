package dev.codebook.index.collection;

import dev.codebook.index.IndexSpec;
import dev.codebook.index.ivf.IvfPqCodebook;
import dev.codebook.index.store.DirectoryLock;
import dev.codebook.index.store.Manifest;
import dev.codebook.index.store.WriteAheadLog;
import dev.codebook.index.vector.Similarity;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.lucene.store.Directory;
import org.roaringbitmap.RoaringBitmap;

/**
 * The state of one open collection that the engine's parts share (Lucene keeps the same in
 * {@code IndexWriter} and {@code SegmentInfos}): the schema, the live segments, the buffers, the
 * id map, the codebooks and the log, with the two locks that guard them.
 *
 * <p><b>Locks.</b> {@link #lock} (read/write) guards every mutable field below; writers hold
 * its write lock briefly, searches take a snapshot under its read lock. {@link #maintenance}
 * serializes flushes, merges, builds, commits, backups and close; it is taken before {@link
 * #lock}, never after.
 */
final class EngineState {

  final Path path;
  final Directory dir;
  /** Held from before the first read until close: one process at a time in this directory. */
  final DirectoryLock writeLock;
  final int dim;
  final Similarity similarity;
  final IndexSpec spec;
  final long createTime;
  final CollectionOptions options;
  final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  final ReentrantLock maintenance = new ReentrantLock();
  volatile boolean closed;

  // Guarded by lock.
  final List<Segment> segments = new ArrayList<>();
  final Map<Long, Segment> byNumber = new HashMap<>();
  final IdMap idMap = new IdMap();
  final Map<Integer, IvfPqCodebook> codebooks = new HashMap<>();
  WriteBuffer buffer;
  /** The buffer being flushed, searched until its segment is committed; else null. */
  WriteBuffer frozen;
  int codebookVersion;
  long buildTime;
  long manifestGen;
  long nextSegment;
  WriteAheadLog wal;
  volatile long liveCount;

  EngineState(Path path, Directory dir, DirectoryLock writeLock, Manifest m,
      CollectionOptions options) {
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
  }

  /** A new empty buffer with the next segment number; caller holds the write lock. */
  WriteBuffer newBuffer(long walGen) {
    return new WriteBuffer(nextSegment++, walGen, dim, similarity, options.attributeDecoder());
  }

  void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("collection store " + path + " is closed");
    }
  }

  void ensureOpenUnchecked() {
    if (closed) {
      throw new IllegalStateException("collection store " + path + " is closed");
    }
  }

  /** Marks the row at {@code loc} deleted in its holder; caller holds the write lock. */
  void markDeleted(long loc) {
    long number = IdMap.number(loc);
    int ord = IdMap.ord(loc);
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

  /** The row at {@code loc}; caller holds the read lock. */
  CollectionEngine.Row row(long loc, boolean values, boolean attrs) {
    long number = IdMap.number(loc);
    int ord = IdMap.ord(loc);
    if (number == buffer.number) {
      return buffer.row(ord, values, attrs);
    }
    if (frozen != null && number == frozen.number) {
      return frozen.row(ord, values, attrs);
    }
    Segment seg = byNumber.get(number);
    return new CollectionEngine.Row(seg.ids[ord], values ? seg.vector(ord) : null,
        attrs ? seg.attributes[ord] : null);
  }

  /** The codebook of version {@code cbv} (0: none), under the read lock. */
  IvfPqCodebook codebook(int cbv) {
    lock.readLock().lock();
    try {
      return cbv > 0 ? codebooks.get(cbv) : null;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** A copy of the codebooks by version, under the read lock. */
  Map<Integer, IvfPqCodebook> codebooksCopy() {
    lock.readLock().lock();
    try {
      return new HashMap<>(codebooks);
    } finally {
      lock.readLock().unlock();
    }
  }
}
