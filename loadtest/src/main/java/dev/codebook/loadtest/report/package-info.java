/**
 * Charts of benchmark results as self-contained HTML (SVG inside, no scripts fetched from the
 * network): recall against QPS for {@code bench} sweeps, with peers' lines beside ours ({@link
 * dev.codebook.loadtest.report.RecallQpsChart}), and latency percentiles against throughput for
 * {@code loadtest} levels ({@link dev.codebook.loadtest.report.LatencyThroughputChart}).
 *
 * <p>Threading: stateless writers.
 */
package dev.codebook.loadtest.report;
