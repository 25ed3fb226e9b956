/**
 * Exact search over full float vectors ({@link dev.codebook.index.flat.FlatIndex}, FAISS's
 * {@code IndexFlat}): the recall oracle and the search of an untrained collection. It implements
 * {@link dev.codebook.index.VectorIndex} like IVF-PQ, one {@link dev.codebook.index.SearchContext}
 * per call. No file format of its own.
 *
 * <h2>Threading</h2>
 *
 * <p>Searches may run concurrently with each other, not with {@code add}; a search keeps no
 * state between calls.
 */
package dev.codebook.index.flat;
