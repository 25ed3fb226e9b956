package dev.codebook.server.grpc;

import dev.codebook.api.v1.Neighbor;
import dev.codebook.api.v1.QueryResult;
import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.api.v1.SearchServiceGrpc;
import dev.codebook.index.SearchParams;
import dev.codebook.index.filter.FilterException;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.server.collection.Collection;
import dev.codebook.server.collection.CollectionRegistry;
import dev.codebook.server.collection.InvalidFieldException;
import dev.codebook.server.search.SearchListener;
import dev.codebook.server.search.SearchScheduler;
import dev.codebook.server.search.SearchTask;
import io.grpc.Context;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CancellationException;

/**
 * {@code codebook.v1.SearchService}: the transport of a search, and only that. A request is
 * checked on the calling gRPC thread (every field named in its error), handed to the {@link
 * SearchScheduler} as a {@link SearchTask}, and its hits or failure come back through a
 * listener bound to the call's context and observer. Which thread searches it, and with which
 * other calls, is the scheduler's business; a full queue is RESOURCE_EXHAUSTED at once, a
 * draining server UNAVAILABLE ({@link StatusMapper}). The call's context (deadline,
 * cancellation) is polled between groups of queries and inside an IVF-PQ scan.
 */
public final class SearchGrpcService extends SearchServiceGrpc.SearchServiceImplBase {

  /** Most queries in one request. */
  public static final int MAX_QUERIES = 10_000;

  /** Largest top_k. */
  public static final int MAX_TOP_K = 10_000;

  /** Largest re-rank factor. */
  public static final int MAX_RERANK = 1_000;

  /** Most neighbours one response may hold, queries times top_k. */
  public static final long MAX_RESULTS = 1_000_000;

  /** Most re-rank candidates per query, top_k times rerank (each costs a full-vector read). */
  public static final long MAX_CANDIDATES = 100_000;

  private final CollectionRegistry registry;
  private final SearchScheduler scheduler;

  public SearchGrpcService(CollectionRegistry registry, SearchScheduler scheduler) {
    this.registry = registry;
    this.scheduler = scheduler;
  }

  /**
   * The service to register: {@link #bindService()} with a request parser that lets requests
   * that do not parse (a filter nested too deep) get INVALID_ARGUMENT instead of grpc-java's
   * UNKNOWN.
   */
  public ServerServiceDefinition definition() {
    return UnparsedRequests.lenient(bindService(), SearchServiceGrpc.getSearchMethod(),
        SearchRequest.getDefaultInstance());
  }

  @Override
  public void search(SearchRequest request, StreamObserver<SearchResponse> responseObserver) {
    Context context = Context.current();
    SearchTask task;
    try {
      UnparsedRequests.check(request);
      String id = Requests.collectionId("collection", request.getCollection());
      if (request.getQueriesCount() == 0) {
        throw new InvalidFieldException("queries", InvalidFieldException.MISSING_FIELD,
            "queries is empty; give at least one query");
      }
      Requests.inRange("queries", request.getQueriesCount(), 1, MAX_QUERIES);
      int k = Requests.inRange("top_k", request.getTopK(), 1, MAX_TOP_K);
      if ((long) k * request.getQueriesCount() > MAX_RESULTS) {
        throw new InvalidFieldException("top_k", InvalidFieldException.OUT_OF_RANGE,
            "queries * top_k = " + request.getQueriesCount() + " * " + k + " exceeds "
                + MAX_RESULTS + " neighbours per response; split the queries over several calls");
      }
      int nprobe = request.hasNprobe()
          ? Requests.inRange("nprobe", request.getNprobe(), 1, Integer.MAX_VALUE)
          : SearchParams.DEFAULT_NPROBE;
      int rerank = request.hasRerank()
          ? Requests.inRange("rerank", request.getRerank(), 1, MAX_RERANK)
          : SearchParams.DEFAULT_RERANK;
      if ((long) k * rerank > MAX_CANDIDATES) {
        throw new InvalidFieldException("rerank", InvalidFieldException.OUT_OF_RANGE,
            "top_k * rerank = " + k + " * " + rerank + " exceeds " + MAX_CANDIDATES
                + " re-rank candidates per query; lower rerank");
      }
      SearchParams params = new SearchParams(nprobe, rerank);
      Filters filter = request.hasFilter() ? Filters.of("filter", request.getFilter()) : null;
      Collection collection = registry.get(id);
      FloatMatrix queries = Requests.queries(request.getQueriesList(), collection.dimension(),
          collection.similarity());
      task = new SearchTask(collection, queries, k, params,
          filter == null ? null : filter.filter(), request.getIncludeVectors(),
          request.getIncludeAttributes(), new Call(context, filter, responseObserver));
    } catch (RuntimeException e) {
      responseObserver.onError(StatusMapper.toStatusException(e));
      return;
    }
    try {
      scheduler.submit(task);
    } catch (RuntimeException e) {
      responseObserver.onError(StatusMapper.toStatusException(e));
    }
  }

  /** One call's side of a search: its context, its filter's field names, its observer. */
  private record Call(Context context, Filters filter, StreamObserver<SearchResponse> observer)
      implements SearchListener {

    @Override
    public boolean isCancelled() {
      return context.isCancelled();
    }

    @Override
    public void runAsCaller(Runnable search) {
      context.run(search);
    }

    @Override
    public void onHits(Collection.Hit[][] hits, int from, int to) {
      SearchResponse response;
      try {
        response = toResponse(hits, from, to);
      } catch (RuntimeException e) {
        onError(e);
        return;
      }
      observer.onNext(response);
      observer.onCompleted();
    }

    @Override
    public void onError(RuntimeException e) {
      if (e instanceof CancellationException) {
        observer.onError(StatusMapper.cancelled(context, e.getMessage()));
      } else if (e instanceof FilterException fe && filter != null) {
        observer.onError(StatusMapper.toStatusException(filter.toInvalidField(fe)));
      } else {
        observer.onError(StatusMapper.toStatusException(e));
      }
    }
  }

  /** The response holding queries {@code [from, to)} of {@code hits}. */
  private static SearchResponse toResponse(Collection.Hit[][] hits, int from, int to) {
    SearchResponse.Builder b = SearchResponse.newBuilder();
    for (int q = from; q < to; q++) {
      Collection.Hit[] query = hits[q];
      QueryResult.Builder qb = b.addResultsBuilder();
      for (Collection.Hit h : query) {
        Neighbor.Builder nb = qb.addNeighborsBuilder().setId(h.id()).setScore(h.score());
        if (h.values() != null) {
          for (float x : h.values()) {
            nb.addValues(x);
          }
        }
        if (!h.attributes().isEmpty()) {
          nb.putAllAttributes(h.attributes());
        }
      }
    }
    return b.build();
  }
}
