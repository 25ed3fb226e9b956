/**
 * Small helpers with no home of their own: {@link dev.codebook.index.util.ParallelFor}, the one
 * parallel for-loop (bulk encoding, trainers, batch search).
 *
 * <h2>Threading</h2>
 *
 * <p>{@code ParallelFor} is thread-safe; a loop that owns its pool must be closed.
 */
package dev.codebook.index.util;
