package dev.codebook.index;

import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;

/**
 * A searchable set of vectors with dense ordinal ids {@code 0..size()-1} in insertion order.
 * Indexes are trained before they are built (see the trainers) and never train implicitly.
 *
 * <p>Implementations search a range of a query batch on the calling thread, described by a
 * {@link SearchContext} the caller owns; {@link dev.codebook.index.search.BatchSearch} spreads a
 * batch over threads. Searches may run concurrently with each other, not with {@link
 * #add}.
 */
public interface VectorIndex {

  /** The factory string this index was built from. */
  IndexSpec spec();

  int dimension();

  Similarity similarity();

  /** Number of vectors added. */
  int size();

  /** Bytes read per vector on the search path (codes, plus full vectors when re-ranking). */
  long bytesPerVector();

  /**
   * Appends vectors with ids {@code size()..size()+vectors.rows()-1}.
   *
   * @throws IllegalArgumentException for a wrong dimension or a non-finite value
   */
  void add(FloatMatrix vectors);

  /**
   * Searches queries {@code [ctx.from(), ctx.to())} of {@code ctx.queries()} (already prepared,
   * see {@link #prepareQueries}) on the calling thread and writes their top {@code
   * ctx.results().k()} into {@code ctx.results()} at the same query positions, returning only
   * ordinals {@code ctx.accept()} accepts (null: all). Results hold fewer than {@code k} ids
   * (padded with -1) only when fewer acceptable vectors are reachable. An index may use {@code
   * ctx.originals()} (IVF-PQ re-ranks against them when its full vectors are stored as given)
   * and poll {@code ctx.cancelled()}; it counts its work into the context and may leave its
   * scratch there for the next call.
   *
   * @throws java.util.concurrent.CancellationException when the context's cancellation turns
   *     true while the index polls it
   * @throws IllegalArgumentException for parameters the index cannot serve (IVF: nprobe over
   *     nlist)
   */
  void search(SearchContext ctx);

  /**
   * Whether {@link #search} polls the context's cancellation while it scans.
   * A caller may then hand it a whole batch (which lets it share work across the queries)
   * instead of cutting the batch into small parts to check a deadline between them.
   */
  default boolean pollsCancellation() {
    return false;
  }

  /**
   * Validates queries and returns the form the scan expects (normalized for cosine), as a copy:
   * the caller's arrays are never modified.
   *
   * @throws IllegalArgumentException for a wrong dimension, NaN or (cosine) zero vector
   */
  FloatMatrix prepareQueries(FloatMatrix queries);
}
