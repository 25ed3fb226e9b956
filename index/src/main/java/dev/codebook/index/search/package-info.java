/**
 * The pieces every index's search shares: the primitive top-k heap ({@link
 * dev.codebook.index.search.TopK}) and the k-th largest bound ({@link
 * dev.codebook.index.search.KthLargest}), batch results ({@link
 * dev.codebook.index.search.SearchResults}), the accept filter a scan asks about candidates
 * ({@link dev.codebook.index.search.AcceptOrds}), idle search buffers kept by an index between
 * search contexts ({@link dev.codebook.index.search.ScratchPool}), and {@link
 * dev.codebook.index.search.BatchSearch}, which spreads a query batch over threads, one {@link
 * dev.codebook.index.SearchContext} per worker.
 *
 * <h2>Threading</h2>
 *
 * <p>Heaps and results are single-threaded scratch, except that a batch's workers write disjoint
 * query rows of one {@code SearchResults}. {@code ScratchPool} is thread-safe. A {@link
 * dev.codebook.index.search.ScanStats} counts one call's work for the server's metrics (filled
 * from the call's search contexts); it holds counters, never search buffers.
 */
package dev.codebook.index.search;
