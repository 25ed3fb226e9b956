/**
 * JMH benchmarks of the kernels and the small pieces a search is made of, run with {@code
 * bin/jmh NAME}: {@code KernelBenchmark} (float kernels, scalar and Vector API in one run),
 * {@code CodeScanBenchmark} (8-bit ADC against 8-bit and 4-bit fast-scan, codes per second),
 * {@code CoarseProbeBenchmark} (the coarse probe, with and without centroid pre-selection),
 * {@code TopKBenchmark} and {@code FilterBenchmark}. Each has a test beside it that checks the
 * benchmarked code computes the right answer, and results are read as ratios between the
 * variants of one run; whole-search speed is measured by {@code codebook bench} and {@code
 * codebook loadtest} instead.
 */
package dev.codebook.bench.jmh;
