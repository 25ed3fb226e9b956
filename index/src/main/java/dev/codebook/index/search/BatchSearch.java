package dev.codebook.index.search;

import dev.codebook.index.SearchContext;
import dev.codebook.index.SearchParams;
import dev.codebook.index.VectorIndex;
import dev.codebook.index.util.ParallelFor;
import dev.codebook.index.vector.FloatMatrix;
import java.util.concurrent.ExecutorService;

/**
 * Searches a whole query batch, spread over threads with {@link ParallelFor}: the batch is cut
 * into chunks handed out from a shared counter, and each worker searches its chunks with a
 * {@link SearchContext} of its own (so its scratch is reused chunk after chunk and returned to
 * the index at the end). The library's shared daemon pool is used unless a caller (a server)
 * passes its own bounded executor.
 */
public final class BatchSearch {

  /** Fewest queries a work item: enough to amortize blocking. */
  static final int CHUNK = 32;

  private BatchSearch() {}

  /** Searches every query of {@code queries} for the top {@code k} with {@code threads} threads. */
  public static SearchResults search(
      VectorIndex index, FloatMatrix queries, int k, SearchParams params, int threads) {
    return search(index, queries, k, params, threads, null);
  }

  /** As above, the helper threads taken from {@code executor} (null: the shared pool). */
  public static SearchResults search(
      VectorIndex index, FloatMatrix queries, int k, SearchParams params, int threads,
      ExecutorService executor) {
    if (k <= 0) {
      throw new IllegalArgumentException("k must be positive, got " + k);
    }
    if (threads <= 0) {
      throw new IllegalArgumentException("threads must be positive, got " + threads);
    }
    FloatMatrix prepared = index.prepareQueries(queries);
    SearchResults out = new SearchResults(prepared.rows(), k);
    int n = prepared.rows();
    if (threads == 1 || n <= CHUNK) {
      try (SearchContext ctx = SearchContext.of(prepared, params, out)) {
        index.search(ctx);
      }
      return out;
    }
    // Two chunks a thread or more: large enough for an index that scans a batch list by list to
    // read each list once for many queries, small enough to even out the threads.
    int chunk = Math.max(CHUNK, n / (2 * threads));
    int chunks = (n + chunk - 1) / chunk;
    ParallelFor loop = executor == null
        ? ParallelFor.shared(threads, "codebook-search")
        : ParallelFor.on(executor, threads, "codebook-search");
    loop.run(chunks, () -> SearchContext.of(prepared, params, out),
        (ctx, c) -> index.search(ctx.range(c * chunk, Math.min(n, (c + 1) * chunk))),
        SearchContext::close);
    return out;
  }
}
