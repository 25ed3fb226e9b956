/**
 * The collection engine: a durable collection of vectors with string ids and opaque attribute
 * blobs, in one directory whose files are those of {@link dev.codebook.index.store}. Shaped after
 * Lucene's {@code IndexWriter}, with one class per job:
 *
 * <ul>
 *   <li>{@link dev.codebook.index.collection.CollectionEngine}: the façade the server uses and
 *       the life cycle (create, open, close, destroy); {@code Recovery} loads the newest commit
 *       and replays the log on open.
 *   <li>{@code CollectionWriter}: upserts and deletes, appended to the write-ahead log and applied
 *       to the {@code WriteBuffer} and the {@code IdMap} ({@code id -> (segment, ordinal)}, the
 *       truth about which row of an id is live; deletion bitmaps are derived from it).
 *   <li>{@code CollectionSearcher}: a snapshot of segments and buffers, each part searched by its
 *       own index, the per-part top-k merged by score. Every call into a {@link
 *       dev.codebook.index.VectorIndex} is made from its {@code searchPart}.
 *   <li>{@code FlushPolicy}, {@code MergePolicy} and the {@code MaintenanceScheduler} that runs
 *       {@code SegmentFlusher} (buffer to segment) and {@code SegmentMerger} (segments to one with
 *       only live rows) on a background thread or when asked.
 *   <li>{@code IndexBuilder}: trains the spec's quantizers on a sample of live vectors, stores them
 *       as a new codebook version and re-encodes every segment with them.
 *   <li>{@code CollectionBackup}: consistent backups and checked restores; {@code Committer}:
 *       commit points and the deletion of files no commit needs.
 * </ul>
 *
 * <p><b>Ordinals.</b> A segment's rows have dense local ordinals; a buffer's ordinals are those
 * of the segment it is flushed as. Within one search snapshot the parts are the segments in
 * order, then the frozen buffer, then the live buffer.
 *
 * <p><b>Threading.</b> All shared state lives in {@code EngineState}, guarded by a read/write
 * lock: writers hold the write lock only to append to the log and apply (they wait for
 * durability outside it, so concurrent writers share an fsync); searches hold the read lock to
 * take their snapshot (one reference per segment and its deletion bitmap, which is replaced
 * copy-on-write, never mutated) and to search the buffers, then search segments without it.
 * Flushes, merges, builds, commits, backups and close also take the maintenance lock, always
 * before the read/write lock, so at most one of them runs at a time while writes and searches
 * go on. Files of a segment a merge dropped are deleted when its last reference goes.
 */
package dev.codebook.index.collection;
