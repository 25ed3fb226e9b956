package dev.codebook.index;

import dev.codebook.index.search.AcceptOrds;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.vector.FloatMatrix;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Everything one {@link VectorIndex#search} call needs, and the scratch it may keep for the next
 * (JVector's {@code GraphSearcher}, FAISS's {@code SearchParameters} plus the scanner's buffers):
 *
 * <ul>
 *   <li>the prepared queries ({@link VectorIndex#prepareQueries}) and, row for row, the queries
 *       as given ({@link #originals()}, or null), of which rows {@code [from, to)} are searched;
 *   <li>the {@link SearchParams}, the ordinals the search may return ({@link #accept()}, null for
 *       all), the call's cancellation ({@link #cancelled()}, null for none: a deadline is a
 *       cancellation that turns true when it passes), and where results go ({@link #results()},
 *       at the same query positions);
 *   <li>the work done, for metrics ({@link #codesScanned()}, {@link #exactScored()}), and the
 *       scratch the index left here ({@link #scratch()}).
 * </ul>
 *
 * <p>The caller owns a context and its scratch: one context is used by one thread at a time and
 * can be reused call after call (a batch's worker keeps one), so an index allocates its tables
 * once per context, not per call and never per thread. {@link #close} hands the scratch back to
 * the index it came from (which keeps a few for the next context), so contexts made per call
 * cost no allocation either; nothing is kept per thread.
 */
public final class SearchContext implements AutoCloseable {

  private FloatMatrix queries;
  private FloatMatrix originals;
  private int from;
  private int to;
  private SearchParams params = SearchParams.DEFAULTS;
  private AcceptOrds accept;
  private BooleanSupplier cancelled;
  private SearchResults results;
  private long codesScanned;
  private long exactScored;
  private Object scratch;
  private Consumer<Object> release;

  /** An empty context: set its queries and results before searching. */
  public SearchContext() {}

  /** A context for all of {@code prepared}, its top {@code results.k()} into {@code results}. */
  public static SearchContext of(FloatMatrix prepared, SearchParams params,
      SearchResults results) {
    return new SearchContext().queries(prepared, null).params(params).results(results);
  }

  /**
   * Sets the prepared queries and the queries as given ({@code originals}, row for row, or null)
   * and selects all of them.
   */
  public SearchContext queries(FloatMatrix prepared, FloatMatrix originals) {
    Objects.requireNonNull(prepared, "prepared");
    if (originals != null && (originals.rows() != prepared.rows()
        || originals.dim() != prepared.dim())) {
      throw new IllegalArgumentException("originals: " + originals.rows() + " x "
          + originals.dim() + " for " + prepared.rows() + " x " + prepared.dim()
          + " prepared queries");
    }
    this.queries = prepared;
    this.originals = originals;
    this.from = 0;
    this.to = prepared.rows();
    return this;
  }

  /** Selects queries {@code [from, to)}. */
  public SearchContext range(int from, int to) {
    if (queries == null || from < 0 || from > to || to > queries.rows()) {
      throw new IndexOutOfBoundsException("query range [" + from + ", " + to + ") of "
          + (queries == null ? "no" : String.valueOf(queries.rows())) + " queries");
    }
    this.from = from;
    this.to = to;
    return this;
  }

  public SearchContext params(SearchParams params) {
    this.params = Objects.requireNonNull(params, "params");
    return this;
  }

  /** Ordinals the search may return, or null for all. */
  public SearchContext accept(AcceptOrds accept) {
    this.accept = accept;
    return this;
  }

  /** The call's cancellation, polled while it scans, or null. */
  public SearchContext cancellation(BooleanSupplier cancelled) {
    this.cancelled = cancelled;
    return this;
  }

  public SearchContext results(SearchResults results) {
    this.results = Objects.requireNonNull(results, "results");
    return this;
  }

  public FloatMatrix queries() {
    return queries;
  }

  public FloatMatrix originals() {
    return originals;
  }

  public int from() {
    return from;
  }

  public int to() {
    return to;
  }

  public SearchParams params() {
    return params;
  }

  public AcceptOrds accept() {
    return accept;
  }

  public BooleanSupplier cancelled() {
    return cancelled;
  }

  public SearchResults results() {
    return results;
  }

  /** Throws {@link CancellationException} with {@code message} if the call was cancelled. */
  public void checkCancelled(String message) {
    if (cancelled != null && cancelled.getAsBoolean()) {
      throw new CancellationException(message);
    }
  }

  /** Counts codes scanned and vectors scored exactly (re-ranking, flat search). */
  public void count(long codes, long exact) {
    codesScanned += codes;
    exactScored += exact;
  }

  /** Codes scanned by searches with this context so far. */
  public long codesScanned() {
    return codesScanned;
  }

  /** Vectors scored exactly by searches with this context so far. */
  public long exactScored() {
    return exactScored;
  }

  /** The scratch an index left here, or null; only that index knows its type. */
  public Object scratch() {
    return scratch;
  }

  /**
   * Keeps {@code s} for the next search with this context, handing the scratch held so far to
   * its {@code release}; {@code release} (or null) takes {@code s} back on {@link #close}.
   */
  public void scratch(Object s, Consumer<Object> release) {
    releaseScratch();
    this.scratch = s;
    this.release = release;
  }

  private void releaseScratch() {
    Object s = scratch;
    Consumer<Object> r = release;
    scratch = null;
    release = null;
    if (s != null && r != null) {
      r.accept(s);
    }
  }

  /** Hands the scratch back to the index it came from; the context stays usable. */
  @Override
  public void close() {
    releaseScratch();
  }
}
