package dev.codebook.index.collection;

import dev.codebook.index.store.CodebookFile;
import dev.codebook.index.store.Manifest;
import dev.codebook.index.store.StoreFiles;
import dev.codebook.index.store.WriteAheadLog;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings an opened collection to the state of its last acknowledged write: the codebooks and
 * segments of the newest commit (every file's checksum verified as it is read), the id map
 * rebuilt from their live rows, files no commit references deleted, and the log replayed from
 * the commit's checkpoint into a fresh write buffer; a torn last record is dropped. Runs before
 * the collection is shared, so it takes no locks.
 */
final class Recovery {

  private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

  private Recovery() {}

  /** Loads commit {@code m}'s codebooks and segments, then replays the log past it. */
  static CollectionEngine.OpenStats recover(EngineState st, Committer committer,
      CollectionWriter writer, Manifest m, long t0) throws IOException {
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
      st.codebooks.put(v, CodebookFile.read(st.dir, v));
    }
    long rows = 0;
    for (Manifest.SegmentInfo si : m.segments()) {
      Segment seg = Segment.open(st.dir, st.path, si, st.dim, st.similarity, st.codebooks::get);
      st.segments.add(seg);
      st.byNumber.put(seg.number, seg);
      for (int r = 0; r < seg.size; r++) {
        if (!seg.deletes.contains(r)) {
          st.idMap.put(seg.ids[r], IdMap.pack(seg.number, r));
        }
      }
      rows += seg.size;
    }
    committer.deleteUnreferenced(m);
    st.buffer = st.newBuffer(m.walCheckpoint());
    WriteAheadLog.Replayed r = WriteAheadLog.replay(st.dir, st.path, m.walCheckpoint(), st.dim,
        writer::apply);
    long gen = Math.max(r.lastGeneration(), m.walCheckpoint() - 1) + 1;
    if (r.records() == 0) {
      // Logs since the checkpoint that hold no record (each open starts a generation, and a
      // close with nothing buffered commits nothing): without this, every restart left one.
      for (String name : st.dir.listAll()) {
        if (StoreFiles.walGeneration(name) >= m.walCheckpoint()) {
          StoreFiles.deleteQuietly(st.dir, name);
        }
      }
    }
    st.wal = WriteAheadLog.create(st.dir, st.path, st.dim, st.options.durability(), gen,
        r.lastSeq());
    st.liveCount = st.idMap.size();
    CollectionEngine.OpenStats stats = new CollectionEngine.OpenStats(st.segments.size(), rows,
        r.records(), r.truncatedBytes(),
        (System.nanoTime() - t0) / 1_000_000);
    if (r.truncatedBytes() > 0) {
      LOG.warn("{}: dropped a torn log tail of {} bytes (an unacknowledged write)", st.path,
          r.truncatedBytes());
    }
    return stats;
  }
}
