/**
 * Codebook's index library: everything that stores and searches vectors, with no networking and
 * no dependency on the API's types. This package holds the contract every index family keeps:
 * {@link dev.codebook.index.VectorIndex} (add, prepare queries, search one {@link
 * dev.codebook.index.SearchContext}), the FAISS-style factory strings ({@link
 * dev.codebook.index.IndexSpec}: {@code Flat}, {@code OPQ48,IVF1024,PQ48x4fs,RFlat}, ...), the
 * search knobs ({@link dev.codebook.index.SearchParams}: {@code nprobe}, {@code rerank}) and
 * {@link dev.codebook.index.IndexFactory}, which trains a spec's quantizers on a sample and
 * returns an empty index (indexes never train implicitly).
 *
 * <p>Sub-packages, bottom up: {@code vector} (matrices, similarity, dataset readers), {@code simd}
 * and {@code simd.panama} (the kernels), {@code quant} (PQ, OPQ), {@code train} (k-means and the
 * quantizer trainers), {@code fastscan} (block layouts and byte tables), {@code search} (top-k,
 * results, batch search), {@code flat} and {@code ivf} (the index families), {@code filter}
 * (attributes and filtered search), {@code store} (the file formats) and {@code collection} (the
 * durable collection engine: writes, snapshots, flush, merge, build, backup). The page {@code
 * docs/architecture.md} shows how an upsert, a search and a build travel through them.
 *
 * <p>Threading: an index is searched by many threads at once, each with its own context; adding
 * vectors excludes searching (the collection engine searches immutable segments instead).
 */
package dev.codebook.index;
