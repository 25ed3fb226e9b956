package dev.codebook.index.collection;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs flushes and merges (Lucene's {@code MergeScheduler}, here serial): on one background
 * thread when {@link CollectionOptions#backgroundMaintenance} is on, at most one run queued at a
 * time, each flushing when the {@link FlushPolicy} asks and merging what the {@link
 * MergePolicy} picks; and on the caller's thread for {@link #flush}, {@link #mergeIfNeeded} and
 * {@link #forceMerge}. Every run holds the collection's maintenance lock.
 */
final class MaintenanceScheduler {

  private static final Logger LOG = LoggerFactory.getLogger(MaintenanceScheduler.class);

  private final EngineState st;
  private final SegmentFlusher flusher;
  private final SegmentMerger merger;
  private final FlushPolicy flushPolicy;
  private final MergePolicy mergePolicy;
  private final ExecutorService background;
  private final AtomicBoolean queued = new AtomicBoolean();

  MaintenanceScheduler(EngineState st, SegmentFlusher flusher, SegmentMerger merger,
      FlushPolicy flushPolicy, MergePolicy mergePolicy) {
    this.st = st;
    this.flusher = flusher;
    this.merger = merger;
    this.flushPolicy = flushPolicy;
    this.mergePolicy = mergePolicy;
    this.background = st.options.backgroundMaintenance()
        ? Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon()
            .name("store-" + st.path.getFileName()).unstarted(r))
        : null;
  }

  /** Queues a background flush-and-merge run unless one is queued or maintenance is off. */
  void maybeSchedule() {
    if (background == null || st.closed || !queued.compareAndSet(false, true)) {
      return;
    }
    try {
      background.execute(() -> {
        queued.set(false);
        try {
          if (needsFlush()) {
            flush();
          }
          mergeIfNeeded();
        } catch (IOException | RuntimeException e) {
          if (!st.closed) {
            LOG.error("{}: background flush/merge failed; will retry on the next write",
                st.path, e);
          }
        }
      });
    } catch (RejectedExecutionException e) {
      queued.set(false);
    }
  }

  private boolean needsFlush() {
    st.lock.readLock().lock();
    try {
      return flushPolicy.needsFlush(st.buffer.rows);
    } finally {
      st.lock.readLock().unlock();
    }
  }

  /** Writes the buffer as a segment and commits; a no-op on an empty buffer. */
  void flush() throws IOException {
    underMaintenance(flusher::flush);
  }

  /** Merges segments if the policy asks for it. */
  void mergeIfNeeded() throws IOException {
    underMaintenance(() -> {
      List<Segment> pick;
      st.lock.readLock().lock();
      try {
        pick = mergePolicy.pick(st.segments, st.codebookVersion);
      } finally {
        st.lock.readLock().unlock();
      }
      if (!pick.isEmpty()) {
        merger.merge(pick);
      }
    });
  }

  /** Merges every segment into one with only live rows, if there is anything to reclaim. */
  void forceMerge() throws IOException {
    underMaintenance(() -> {
      flusher.flush();
      List<Segment> all;
      st.lock.readLock().lock();
      try {
        all = new ArrayList<>(st.segments);
      } finally {
        st.lock.readLock().unlock();
      }
      if (MergePolicy.worthForcing(all)) {
        merger.merge(all);
      }
    });
  }

  /** A maintenance step. */
  @FunctionalInterface
  private interface Step {
    void run() throws IOException;
  }

  /** Runs {@code step} on an open collection under the maintenance lock. */
  private void underMaintenance(Step step) throws IOException {
    st.maintenance.lock();
    try {
      st.ensureOpen();
      step.run();
    } finally {
      st.maintenance.unlock();
    }
  }

  /** Stops taking runs; a queued one may still start (and finds the collection closed). */
  void shutdown() {
    if (background != null) {
      background.shutdown();
    }
  }

  /** Interrupts a running run. */
  void shutdownNow() {
    if (background != null) {
      background.shutdownNow();
    }
  }

  /** Waits a little for the background thread to end (after {@link #shutdownNow}). */
  void awaitTermination() {
    if (background != null) {
      try {
        background.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
