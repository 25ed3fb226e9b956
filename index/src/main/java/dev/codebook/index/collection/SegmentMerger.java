package dev.codebook.index.collection;

import dev.codebook.index.ivf.IvfPqCodebook;
import dev.codebook.index.store.Manifest;
import dev.codebook.index.store.SegmentWriter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.util.StringHelper;
import org.roaringbitmap.RoaringBitmap;

/**
 * Rewrites segments into one with only their live rows (Lucene's {@code SegmentMerger} plus the
 * swap in {@code IndexWriter.commitMerge}), encoded with the current codebook or, for a build,
 * a new one. Rows deleted or replaced while the merge ran are found through the {@link IdMap}
 * at swap time and marked deleted in the new segment. Callers hold the maintenance lock.
 */
final class SegmentMerger {

  private final EngineState st;
  private final Committer committer;

  SegmentMerger(EngineState st, Committer committer) {
    this.st = st;
    this.committer = committer;
  }

  /** Rewrites {@code sources} as one segment of their live rows, with the current codebook. */
  void merge(List<Segment> sources) throws IOException {
    int cbv;
    IvfPqCodebook cb;
    st.lock.readLock().lock();
    try {
      cbv = st.codebookVersion;
      cb = cbv > 0 ? st.codebooks.get(cbv) : null;
    } finally {
      st.lock.readLock().unlock();
    }
    merge(sources, cb, cbv, 0, null);
  }

  /**
   * Rewrites {@code sources} as one segment encoded with {@code cb} (version {@code cbv}; null
   * and 0 for none), which becomes the collection's codebook at the swap.
   *
   * @param newBuildTime the build time to commit with the swap (0: unchanged)
   * @param listener told after each encoded chunk; may throw to cancel (nothing changes then)
   */
  void merge(List<Segment> sources, IvfPqCodebook cb, int cbv, long newBuildTime,
      SegmentWriter.EncodeListener listener) throws IOException {
    List<RoaringBitmap> dels = new ArrayList<>();
    long number;
    st.lock.writeLock().lock();
    try {
      for (Segment s : sources) {
        s.incRef();
        dels.add(s.deletes);
      }
      number = st.nextSegment++;
    } finally {
      st.lock.writeLock().unlock();
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
      Segment merged = total > 0
          ? write(sources, srcSeg, srcOrd, number, cb, cbv, listener) : null;
      st.lock.writeLock().lock();
      try {
        swap(sources, merged, srcSeg, srcOrd, cb, cbv, newBuildTime);
      } finally {
        st.lock.writeLock().unlock();
      }
    } finally {
      for (Segment s : sources) {
        s.decRef(); // this merge's reference
      }
    }
  }

  /** Writes and opens the merged segment; on failure removes what was written. */
  private Segment write(List<Segment> sources, int[] srcSeg, int[] srcOrd, long number,
      IvfPqCodebook cb, int cbv, SegmentWriter.EncodeListener listener) throws IOException {
    byte[] segId = StringHelper.randomId();
    int n = srcSeg.length;
    boolean written = false;
    try {
      SegmentWriter.write(st.dir, number, segId, st.dim, new SegmentWriter.RowSource() {
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
      Map<Integer, IvfPqCodebook> with = st.codebooksCopy();
      if (cb != null) {
        with.put(cbv, cb);
      }
      Segment merged = Segment.open(st.dir, st.path,
          new Manifest.SegmentInfo(number, segId, n, cbv, 0, 0), st.dim, st.similarity,
          with::get);
      written = true;
      return merged;
    } finally {
      if (!written) {
        // Cancelled or failed: nothing refers to these files.
        SegmentFlusher.deleteSegmentFiles(st, number);
      }
    }
  }

  /**
   * Replaces {@code sources} by {@code merged} (null when no row was live) and commits; the id
   * map decides which merged rows are still live. Caller holds the write lock.
   */
  private void swap(List<Segment> sources, Segment merged, int[] srcSeg, int[] srcOrd,
      IvfPqCodebook cb, int cbv, long newBuildTime) throws IOException {
    if (merged != null) {
      RoaringBitmap dead = new RoaringBitmap();
      for (int r = 0; r < merged.size; r++) {
        Segment src = sources.get(srcSeg[r]);
        long was = IdMap.pack(src.number, srcOrd[r]);
        if (st.idMap.get(merged.ids[r]) == was) {
          st.idMap.put(merged.ids[r], IdMap.pack(merged.number, r));
        } else {
          dead.add(r);
        }
      }
      merged.deletes = dead;
      merged.dirty = !dead.isEmpty();
    }
    Set<Segment> drop = new HashSet<>(sources);
    int pos = st.segments.indexOf(sources.get(0));
    st.segments.removeIf(drop::contains);
    for (Segment s : sources) {
      st.byNumber.remove(s.number);
    }
    if (merged != null) {
      st.segments.add(Math.min(pos, st.segments.size()), merged);
      st.byNumber.put(merged.number, merged);
    }
    if (cb != null && cbv != st.codebookVersion) {
      st.codebooks.put(cbv, cb);
      st.codebookVersion = cbv;
    }
    if (newBuildTime > 0) {
      st.buildTime = newBuildTime;
    }
    committer.commit();
    for (Segment s : sources) {
      s.markObsolete();
      s.decRef(); // the collection's reference
    }
  }
}
