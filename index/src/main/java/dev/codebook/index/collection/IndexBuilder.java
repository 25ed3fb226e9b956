package dev.codebook.index.collection;

import dev.codebook.index.IndexFactory;
import dev.codebook.index.VectorIndex;
import dev.codebook.index.ivf.IvfPqCodebook;
import dev.codebook.index.ivf.IvfPqIndex;
import dev.codebook.index.ivf.MappedRawVectors;
import dev.codebook.index.ivf.RawVectors;
import dev.codebook.index.store.CodebookFile;
import dev.codebook.index.vector.FloatMatrix;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.roaringbitmap.RoaringBitmap;

/**
 * Builds the collection's index: flushes, trains the spec's quantizers on a seeded sample of
 * live vectors, stores them as {@code codebook_V+1}, merges every segment into one encoded with
 * them and commits. Searches and writes go on against the old segments until the swap. Holds
 * the maintenance lock for the whole build.
 */
final class IndexBuilder {

  private final EngineState st;
  private final SegmentFlusher flusher;
  private final SegmentMerger merger;

  IndexBuilder(EngineState st, SegmentFlusher flusher, SegmentMerger merger) {
    this.st = st;
    this.flusher = flusher;
    this.merger = merger;
  }

  /** @see CollectionEngine#build */
  CollectionEngine.BuildResult build(IndexFactory.BuildOptions buildOptions, int maxTrainingRows)
      throws IOException {
    st.maintenance.lock();
    try {
      st.ensureOpen();
      buildOptions.checkCancelled();
      flusher.flush();
      List<Segment> sources;
      int currentVersion;
      st.lock.writeLock().lock();
      try {
        sources = new ArrayList<>(st.segments);
        for (Segment s : sources) {
          s.incRef();
        }
        currentVersion = st.codebookVersion;
      } finally {
        st.lock.writeLock().unlock();
      }
      try {
        int live = 0;
        for (Segment s : sources) {
          live += s.liveCount();
        }
        IvfPqCodebook cb = null;
        int sample = 0;
        int cbv = 0;
        if (!(st.spec.isFlat() && !st.spec.hasIvf())) {
          FloatMatrix training = sample(sources, Math.min(live, maxTrainingRows),
              buildOptions.seed());
          sample = training.rows();
          cb = train(training, buildOptions);
          buildOptions.checkCancelled();
          cbv = currentVersion + 1;
          CodebookFile.write(st.dir, cbv, cb);
        }
        merger.merge(sources, cb, cbv, System.currentTimeMillis(), (c, n) -> {
          buildOptions.steps().onStep(CollectionEngine.ENCODE_TASK, c, n, Double.NaN);
          buildOptions.checkCancelled();
        });
        return new CollectionEngine.BuildResult(sample, cbv, live);
      } finally {
        for (Segment s : sources) {
          s.decRef();
        }
      }
    } finally {
      st.maintenance.unlock();
    }
  }

  /** Trains the spec on {@code training}; keeps the quantizers, drops the trained index. */
  private IvfPqCodebook train(FloatMatrix training, IndexFactory.BuildOptions buildOptions)
      throws IOException {
    VectorIndex trained = IndexFactory.create(st.spec, st.dim, st.similarity, training,
        buildOptions);
    IvfPqIndex ivf = (IvfPqIndex) trained;
    IvfPqCodebook cb = IvfPqCodebook.of(ivf);
    RawVectors tmp = IvfPqCodebook.rawOf(ivf);
    if (tmp != null) {
      tmp.close();
      if (tmp instanceof MappedRawVectors m) {
        Files.deleteIfExists(m.file());
      }
    }
    return cb;
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
    float[] x = new float[Math.multiplyExact(rows, st.dim)];
    for (int j = 0; j < rows; j++) {
      sources.get(pickSeg[j]).vector(pickOrd[j], x, j * st.dim);
    }
    return new FloatMatrix(rows, st.dim, x);
  }
}
