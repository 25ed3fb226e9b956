package dev.codebook.index.collection;

import dev.codebook.index.ivf.IvfPqCodebook;
import dev.codebook.index.store.Manifest;
import dev.codebook.index.store.SegmentWriter;
import dev.codebook.index.store.StoreFiles;
import java.io.IOException;
import org.apache.lucene.util.StringHelper;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the write buffer into a segment (Lucene's {@code DocumentsWriter} flush): freezes it
 * (the log rolls to a new generation), writes it as a segment with the same number and
 * ordinals (encoded with the current codebook when trained), opens it and commits a manifest
 * whose log checkpoint is the new generation; older logs are then deleted. Callers hold the
 * maintenance lock.
 */
final class SegmentFlusher {

  private static final Logger LOG = LoggerFactory.getLogger(SegmentFlusher.class);

  private final EngineState st;
  private final Committer committer;

  SegmentFlusher(EngineState st, Committer committer) {
    this.st = st;
    this.committer = committer;
  }

  /**
   * Freezes the buffer and writes it as a segment; a no-op on an empty buffer. If a previous
   * attempt failed, its frozen buffer is retried first (its rows are only in the log and in
   * memory, and the log checkpoint stays at it until it is committed).
   */
  void flush() throws IOException {
    WriteBuffer b;
    IvfPqCodebook cb;
    int cbv;
    byte[] segId = StringHelper.randomId();
    st.lock.writeLock().lock();
    try {
      if (st.frozen == null) {
        if (st.buffer.rows == 0) {
          return;
        }
        long gen = st.wal.roll();
        st.frozen = st.buffer;
        st.buffer = st.newBuffer(gen);
      }
      b = st.frozen;
      cbv = st.codebookVersion;
      cb = cbv > 0 ? st.codebooks.get(cbv) : null;
    } finally {
      st.lock.writeLock().unlock();
    }
    Segment seg;
    try {
      SegmentWriter.write(st.dir, b.number, segId, st.dim, b.source(), cb, cbv);
      seg = Segment.open(st.dir, st.path,
          new Manifest.SegmentInfo(b.number, segId, b.rows, cbv, 0, 0), st.dim, st.similarity,
          st.codebooks::get);
    } catch (IOException | RuntimeException e) {
      // Keep serving from the frozen buffer and retry later; remove what was half written.
      deleteSegmentFiles(st, b.number);
      LOG.error("{}: flush of segment {} failed", st.path, b.number, e);
      throw e;
    }
    st.lock.writeLock().lock();
    try {
      RoaringBitmap dels = st.frozen.deletes.clone();
      seg.deletes = dels;
      seg.dirty = !dels.isEmpty();
      st.segments.add(seg);
      st.byNumber.put(seg.number, seg);
      st.frozen = null;
      committer.commit();
    } finally {
      st.lock.writeLock().unlock();
    }
  }

  /** Removes the files of segment {@code number} that nothing refers to (a failed write). */
  static void deleteSegmentFiles(EngineState st, long number) {
    for (String ext : new String[] {"vec", "ids", "ivf"}) {
      StoreFiles.deleteQuietly(st.dir, StoreFiles.segment(number, ext));
    }
  }
}
