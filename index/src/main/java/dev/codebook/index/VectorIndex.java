package dev.codebook.index;

import dev.codebook.index.search.AcceptOrds;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;

/**
 * A searchable set of vectors with dense ordinal ids {@code 0..size()-1} in insertion order.
 * Indexes are trained before they are built (see the trainers) and never train implicitly.
 *
 * <p>Implementations search a range of a query batch on the calling thread; {@link BatchSearch}
 * spreads a batch over threads. Searches may run concurrently with each other, not with {@link
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
   * Searches queries {@code [from, to)} of {@code queries} and writes their top {@code
   * out.k()} into {@code out} at the same query positions. Queries must already be prepared (see
   * {@link #prepareQueries}); single-threaded.
   */
  default void search(FloatMatrix queries, int from, int to, SearchParams params,
      SearchResults out) {
    search(queries, from, to, params, null, out);
  }

  /**
   * As {@link #search(FloatMatrix, int, int, SearchParams, SearchResults)}, returning only
   * ordinals {@code accept} accepts ({@code null}: all). Results hold fewer than {@code k} ids
   * (padded with -1) only when fewer acceptable vectors are reachable.
   */
  void search(FloatMatrix queries, int from, int to, SearchParams params, AcceptOrds accept,
      SearchResults out);

  /**
   * As {@link #search(FloatMatrix, int, int, SearchParams, AcceptOrds, SearchResults)}, with the
   * raw queries the prepared ones came from, row for row ({@code originals}, or null), and the
   * call's cancellation ({@code cancelled}, or null). An index may use either or neither: IVF-PQ
   * re-ranks against {@code originals} when its full vectors are stored as given, and polls
   * {@code cancelled} inside a query's scan; by default this is the plain search.
   *
   * @throws java.util.concurrent.CancellationException when {@code cancelled} turns true
   */
  default void search(FloatMatrix queries, FloatMatrix originals, int from, int to,
      SearchParams params, AcceptOrds accept, java.util.function.BooleanSupplier cancelled,
      SearchResults out) {
    search(queries, from, to, params, accept, out);
  }

  /**
   * Whether {@link #search(FloatMatrix, FloatMatrix, int, int, SearchParams, AcceptOrds,
   * java.util.function.BooleanSupplier, SearchResults)} polls {@code cancelled} while it scans.
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
