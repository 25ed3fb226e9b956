package dev.codebook.index.collection;

import dev.codebook.index.store.WalRecord;
import dev.codebook.index.vector.VectorUtil;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Applies writes (Lucene's {@code DocumentsWriter}): an upsert or delete is validated, appended
 * to the log and applied to the write buffer and the {@link IdMap} under the write lock; the
 * caller is answered once the log record is durable under the {@link
 * dev.codebook.index.store.Durability} policy, waiting outside the lock so concurrent writers
 * share an fsync. A replaced or deleted row is marked in its holder's deletion bitmap. Replay
 * on open goes through {@link #apply} too.
 */
final class CollectionWriter {

  private final EngineState st;
  private final MaintenanceScheduler scheduler;
  private final FlushPolicy flushPolicy;

  CollectionWriter(EngineState st, MaintenanceScheduler scheduler, FlushPolicy flushPolicy) {
    this.st = st;
    this.scheduler = scheduler;
    this.flushPolicy = flushPolicy;
  }

  /**
   * Inserts or replaces rows, all or nothing; a later row with the same id wins. The one place
   * the engine checks upserted vectors; {@code values} is read, not kept.
   *
   * @see CollectionEngine#upsert
   */
  CollectionEngine.UpsertResult upsert(List<String> ids, float[] values, List<byte[]> attributes)
      throws IOException {
    int n = ids.size();
    int dim = st.dim;
    if (values.length != (long) n * dim || attributes.size() != n) {
      throw new IllegalArgumentException(n + " ids, " + attributes.size()
          + " attribute blobs and " + values.length + " floats at dimension " + dim);
    }
    for (int i = 0; i < n; i++) {
      VectorUtil.checkFinite(values, i * dim, dim, "vectors", i);
      double norm2 = VectorUtil.squaredNorm(values, i * dim, dim);
      if (st.similarity.normalizes() && !(norm2 > 0)) {
        throw new IllegalArgumentException(
            "vectors[" + i + "] cannot be normalized for cosine similarity: its norm is 0");
      }
      if (!st.similarity.normalizes()) {
        VectorUtil.checkMagnitude(norm2, "vectors", i);
      }
    }
    // No copy: the log encodes the record and the buffer copies the values, both under the lock.
    WalRecord.Upsert rec = new WalRecord.Upsert(List.copyOf(ids), values,
        List.copyOf(attributes));
    long seq;
    int replaced;
    st.lock.writeLock().lock();
    try {
      st.ensureOpen();
      // The one check that can fail after validation; done before the log sees the record.
      st.buffer.ensureRoom((long) (st.buffer.rows + n) * dim);
      seq = st.wal.append(rec);
      replaced = applyUpsert(rec);
      st.liveCount = st.idMap.size();
    } finally {
      st.lock.writeLock().unlock();
    }
    st.wal.awaitDurable(seq);
    if (flushPolicy.needsFlush(st.buffer.rows)) {
      scheduler.maybeSchedule();
    }
    return new CollectionEngine.UpsertResult(n, replaced, st.liveCount);
  }

  /**
   * Deletes rows by id, all or nothing.
   *
   * @see CollectionEngine#delete
   */
  CollectionEngine.DeleteResult delete(List<String> ids, boolean allowMissing)
      throws IOException {
    List<String> distinct = new ArrayList<>(new LinkedHashSet<>(ids));
    long seq;
    int count;
    st.lock.writeLock().lock();
    try {
      st.ensureOpen();
      List<String> missing = new ArrayList<>();
      List<String> present = new ArrayList<>();
      for (String id : distinct) {
        (st.idMap.contains(id) ? present : missing).add(id);
      }
      if (!allowMissing && !missing.isEmpty()) {
        return new CollectionEngine.DeleteResult(0, st.idMap.size(), missing);
      }
      if (present.isEmpty()) {
        return new CollectionEngine.DeleteResult(0, st.idMap.size(), List.of());
      }
      seq = st.wal.append(new WalRecord.Delete(present));
      count = applyDelete(present);
      st.liveCount = st.idMap.size();
    } finally {
      st.lock.writeLock().unlock();
    }
    st.wal.awaitDurable(seq);
    scheduler.maybeSchedule();
    return new CollectionEngine.DeleteResult(count, st.liveCount, List.of());
  }

  /** Applies a replayed record; the collection is still being opened. */
  void apply(WalRecord rec) {
    switch (rec) {
      case WalRecord.Upsert u -> applyUpsert(u);
      case WalRecord.Delete d -> applyDelete(d.ids());
    }
  }

  /** Applies an upsert to the buffer and id map; caller holds the write lock (or is loading). */
  private int applyUpsert(WalRecord.Upsert u) {
    int n = u.ids().size();
    WriteBuffer b = st.buffer;
    int base = b.rows;
    b.append(u.ids(), u.values(), u.attributes());
    int replaced = 0;
    for (int i = 0; i < n; i++) {
      long old = st.idMap.put(u.ids().get(i), IdMap.pack(b.number, base + i));
      if (old != IdMap.NONE) {
        st.markDeleted(old);
        replaced++;
      }
    }
    return replaced;
  }

  private int applyDelete(List<String> ids) {
    int count = 0;
    for (String id : ids) {
      long old = st.idMap.remove(id);
      if (old != IdMap.NONE) {
        st.markDeleted(old);
        count++;
      }
    }
    return count;
  }
}
