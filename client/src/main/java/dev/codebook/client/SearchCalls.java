package dev.codebook.client;

import dev.codebook.api.v1.Neighbor;
import dev.codebook.api.v1.Query;
import dev.codebook.api.v1.QueryResult;
import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.api.v1.SearchServiceGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * {@code SearchService} calls: queries and {@link SearchOptions} to a request, a response to
 * {@link SearchHit}s. Searches are retried. Thread-safe.
 */
final class SearchCalls {

  private final UnaryCalls calls;
  private final SearchServiceGrpc.SearchServiceStub stub;
  private final Duration deadline;

  SearchCalls(UnaryCalls calls, Connection connection, Duration deadline) {
    this.calls = calls;
    this.stub = SearchServiceGrpc.newStub(connection.channel());
    this.deadline = deadline;
  }

  CompletableFuture<List<List<SearchHit>>> search(String collection, float[][] queries,
      SearchOptions options) {
    return search(request(collection, queries, options)).thenApply(SearchCalls::hits);
  }

  CompletableFuture<SearchResponse> search(SearchRequest request) {
    Objects.requireNonNull(request, "request");
    return calls.invoke(true, deadline, request, (d, q, o) -> stub.withDeadline(d).search(q, o));
  }

  static SearchRequest request(String collection, float[][] queries, SearchOptions options) {
    Objects.requireNonNull(options, "options");
    SearchRequest.Builder b = SearchRequest.newBuilder().setCollection(Names.collection(collection))
        .setTopK(options.topK()).setIncludeAttributes(options.includeAttributes());
    if (options.nprobe() != null) {
      b.setNprobe(options.nprobe());
    }
    if (options.rerank() != null) {
      b.setRerank(options.rerank());
    }
    if (options.filter() != null) {
      b.setFilter(options.filter().toProto());
    }
    for (float[] query : queries) {
      Query.Builder qb = Query.newBuilder();
      for (float x : query) {
        qb.addVector(x);
      }
      b.addQueries(qb);
    }
    return b.build();
  }

  static List<List<SearchHit>> hits(SearchResponse r) {
    List<List<SearchHit>> out = new ArrayList<>(r.getResultsCount());
    for (QueryResult qr : r.getResultsList()) {
      List<SearchHit> hits = new ArrayList<>(qr.getNeighborsCount());
      for (Neighbor n : qr.getNeighborsList()) {
        hits.add(new SearchHit(n.getId(), n.getScore(),
            VectorRecord.attributes(n.getAttributesMap())));
      }
      out.add(hits);
    }
    return out;
  }
}
