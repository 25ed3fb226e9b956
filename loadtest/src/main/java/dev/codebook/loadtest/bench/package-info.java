/**
 * {@code codebook bench}: the in-process benchmark. {@link dev.codebook.loadtest.bench.Bench}
 * builds an index from a dataset's {@code train} rows, searches its {@code test} queries under
 * each search setting and thread count, batched and one query per call, and scores recall@k
 * against the file's exact {@code neighbors} ({@link dev.codebook.loadtest.bench.Recall}, or
 * ground truth from the Flat index: {@link dev.codebook.loadtest.bench.GroundTruth}).
 *
 * <p>Timing ({@link dev.codebook.loadtest.bench.PassTimer}) follows the same rules as the C++
 * FAISS program in {@code tools/faiss_bench}, so that the two are compared like for like: a first
 * pass whose answers give the recall, untimed passes for the warm-up, then timed passes; QPS is
 * the median pass, with the fastest and slowest beside it. Output is one JSON line per setting in
 * the schema of {@code ../shared/peers/}.
 *
 * <p>Threading: the command runs on its own; searches use the given thread counts.
 */
package dev.codebook.loadtest.bench;
