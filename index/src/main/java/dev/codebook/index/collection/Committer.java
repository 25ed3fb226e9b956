package dev.codebook.index.collection;

import dev.codebook.index.store.DeletesFile;
import dev.codebook.index.store.Manifest;
import dev.codebook.index.store.StoreFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.roaringbitmap.RoaringBitmap;

/**
 * Publishes commit points and removes the files no commit needs any more (Lucene's {@code
 * SegmentInfos} commit plus {@code IndexFileDeleter}). Every method is called with the
 * collection's write lock held, or while it is still being opened.
 */
final class Committer {

  private final EngineState st;

  Committer(EngineState st) {
    this.st = st;
  }

  /**
   * Commits the current state: syncs the log (so no committed deletion comes from an
   * unsynced, possibly torn record), writes deletion generations of changed segments, and
   * publishes {@code manifest_N+1}; then deletes the previous manifest, replaced deletion
   * generations, logs before the checkpoint and codebooks no segment uses.
   */
  void commit() throws IOException {
    st.wal.sync();
    List<String> obsolete = new ArrayList<>();
    List<Manifest.SegmentInfo> infos = new ArrayList<>();
    for (Segment s : st.segments) {
      if (s.dirty) {
        long gen = s.delGen + 1;
        RoaringBitmap d = s.deletes;
        DeletesFile.write(st.dir, StoreFiles.deletes(s.number, gen), s.id, s.size, d);
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
    long checkpoint = st.frozen != null ? st.frozen.walGen : st.buffer.walGen;
    Manifest m = new Manifest(st.manifestGen + 1, st.dim, st.similarity, st.spec,
        st.createTime, st.buildTime, st.codebookVersion, checkpoint, st.nextSegment, infos);
    m.commit(st.dir);
    long oldGen = st.manifestGen;
    st.manifestGen = m.generation();
    StoreFiles.deleteQuietly(st.dir, StoreFiles.manifest(oldGen));
    for (String f : obsolete) {
      StoreFiles.deleteQuietly(st.dir, f);
    }
    for (String name : st.dir.listAll()) {
      long g = StoreFiles.walGeneration(name);
      if (g >= 0 && g < checkpoint) {
        StoreFiles.deleteQuietly(st.dir, name);
      }
      if (name.startsWith("codebook_")) {
        int v = Integer.parseInt(name.substring("codebook_".length()));
        if (v != st.codebookVersion
            && st.segments.stream().noneMatch(s -> s.codebookVersion == v)) {
          StoreFiles.deleteQuietly(st.dir, name);
          st.codebooks.remove(v);
        }
      }
    }
  }

  /**
   * Deletes store files that commit {@code m} does not reference (left by a crash or a dropped
   * commit); logs from its checkpoint on are kept for replay. Called once the segments of
   * {@code m} are open.
   */
  void deleteUnreferenced(Manifest m) throws IOException {
    Set<String> keep = new HashSet<>();
    keep.add(StoreFiles.manifest(m.generation()));
    if (m.codebookVersion() > 0) {
      keep.add(StoreFiles.codebook(m.codebookVersion()));
    }
    for (Segment seg : st.segments) {
      keep.addAll(seg.files());
      if (seg.codebookVersion > 0) {
        keep.add(StoreFiles.codebook(seg.codebookVersion));
      }
    }
    for (String name : st.dir.listAll()) {
      if (!StoreFiles.isStoreFile(name) || keep.contains(name)) {
        continue;
      }
      long walGen = StoreFiles.walGeneration(name);
      if (walGen >= m.walCheckpoint()) {
        continue;
      }
      StoreFiles.deleteQuietly(st.dir, name);
    }
  }
}
