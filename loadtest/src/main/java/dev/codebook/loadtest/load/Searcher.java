package dev.codebook.loadtest.load;

import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchResponse;
import java.util.concurrent.CompletableFuture;

/**
 * Sends one search call without blocking the caller: the seam between the load generator and
 * the transport ({@link dev.codebook.client.CodebookClient#searchAsync(SearchRequest)} in
 * practice). A failure completes the future exceptionally with the call's gRPC status.
 */
@FunctionalInterface
public interface Searcher {
  CompletableFuture<SearchResponse> search(SearchRequest request);
}
