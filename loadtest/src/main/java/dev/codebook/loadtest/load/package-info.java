/**
 * {@code codebook loadtest}: load against a running server over real gRPC. {@link
 * dev.codebook.loadtest.load.LoadGenerator} drives closed loops (a fixed number of callers) and
 * open loops (calls on a fixed timetable, {@link dev.codebook.loadtest.load.OpenLoopSchedule},
 * latency measured from each call's slot so stalls count), recording latencies in HdrHistograms
 * ({@link dev.codebook.loadtest.load.LatencyStats}) and the client JVM's own stalls ({@link
 * dev.codebook.loadtest.load.HiccupMeter}). {@link dev.codebook.loadtest.load.CollectionLoader}
 * can create the collection and stream a dataset in first; {@link
 * dev.codebook.loadtest.load.QueryPlan} and {@link dev.codebook.loadtest.load.LevelRecall} score
 * each level's own answers against the dataset's exact neighbours, failed calls counted as
 * misses.
 *
 * <p>Threading: callers run on the gRPC client's threads and a scheduler; the statistics are
 * per level and merged when the level ends.
 */
package dev.codebook.loadtest.load;
