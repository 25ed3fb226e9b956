package dev.codebook.server.grpc;

import dev.codebook.api.v1.Neighbor;
import dev.codebook.api.v1.QueryResult;
import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.api.v1.SearchServiceGrpc;
import dev.codebook.index.SearchParams;
import dev.codebook.index.filter.FilterException;
import dev.codebook.index.search.ScanStats;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.server.collection.Collection;
import dev.codebook.server.collection.CollectionRegistry;
import dev.codebook.server.collection.InvalidFieldException;
import dev.codebook.server.metrics.ServerMetrics;
import io.grpc.Context;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;

/**
 * {@code codebook.v1.SearchService}. A request is checked on the calling gRPC thread, then
 * searched on the bounded search executor, never on a Netty event loop. When the executor's
 * queue is full the call fails fast with RESOURCE_EXHAUSTED instead of queueing without bound;
 * once the server shuts the executor down, with UNAVAILABLE. The call's context (deadline,
 * cancellation) is polled between groups of queries and every 32 lists inside an IVF-PQ scan,
 * and a search whose call ended while it waited in the queue is not started.
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
  private final ThreadPoolExecutor executor;
  private final int queueCapacity;
  private final ServerMetrics metrics;

  /**
   * @param executor the bounded search executor; its rejections become RESOURCE_EXHAUSTED, or
   *     UNAVAILABLE once it is shut down
   * @param queueCapacity the capacity of its queue, for the error message
   */
  public SearchGrpcService(CollectionRegistry registry, ThreadPoolExecutor executor,
      int queueCapacity, ServerMetrics metrics) {
    this.registry = registry;
    this.metrics = metrics;
    this.executor = executor;
    this.queueCapacity = queueCapacity;
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
    Collection collection;
    FloatMatrix queries;
    SearchParams params;
    Filters filter;
    int k;
    try {
      String unparsed = UnparsedRequests.parseError(request);
      if (unparsed != null) {
        throw unparsed.contains("nesting")
            ? new InvalidFieldException("filter", InvalidFieldException.INVALID_FILTER,
                "filter nests too deeply to parse (" + unparsed + "); at most "
                    + dev.codebook.index.filter.Filter.MAX_DEPTH + " levels are allowed")
            : new InvalidFieldException("request", InvalidFieldException.INVALID_VALUE,
                "the request is not a valid codebook.v1.SearchRequest: " + unparsed);
      }
      String id = Requests.collectionId("collection", request.getCollection());
      if (request.getQueriesCount() == 0) {
        throw new InvalidFieldException("queries", InvalidFieldException.MISSING_FIELD,
            "queries is empty; give at least one query");
      }
      Requests.inRange("queries", request.getQueriesCount(), 1, MAX_QUERIES);
      k = Requests.inRange("top_k", request.getTopK(), 1, MAX_TOP_K);
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
      params = new SearchParams(nprobe, rerank);
      filter = request.hasFilter() ? Filters.of("filter", request.getFilter()) : null;
      collection = registry.get(id);
      queries = Requests.queries(request.getQueriesList(), collection.dimension(),
          collection.similarity());
    } catch (RuntimeException e) {
      responseObserver.onError(StatusMapper.toStatusException(e));
      return;
    }
    Runnable task =
        () -> run(context, collection, queries, k, params, filter, request, responseObserver);
    try {
      executor.execute(context.wrap(task));
    } catch (RejectedExecutionException e) {
      responseObserver.onError(executor.isShutdown()
          ? StatusMapper.draining()
          : StatusMapper.searchQueueFull(executor.getMaximumPoolSize(), queueCapacity));
      return;
    }
  }

  private void run(Context context, Collection collection, FloatMatrix queries, int k,
      SearchParams params, Filters filter, SearchRequest request,
      StreamObserver<SearchResponse> observer) {
    SearchResponse response;
    try {
      if (context.isCancelled()) {
        observer.onError(StatusMapper.cancelled(context, "the search waited in the queue"));
        return;
      }
      long codes = ScanStats.codes(), exact = ScanStats.exact(); // this thread's work so far
      Collection.Hit[][] hits = collection.search(queries, k, params,
          filter == null ? null : filter.filter(), request.getIncludeVectors(),
          request.getIncludeAttributes(), context::isCancelled);
      response = toResponse(hits);
      metrics.queries(collection.id(), hits.length, ScanStats.codes() - codes,
          ScanStats.exact() - exact);
    } catch (FilterException e) {
      observer.onError(StatusMapper.toStatusException(filter.toInvalidField(e)));
      return;
    } catch (CancellationException e) {
      observer.onError(StatusMapper.cancelled(context, e.getMessage()));
      return;
    } catch (RuntimeException e) {
      observer.onError(StatusMapper.toStatusException(e));
      return;
    }
    observer.onNext(response);
    observer.onCompleted();
  }

  private static SearchResponse toResponse(Collection.Hit[][] hits) {
    SearchResponse.Builder b = SearchResponse.newBuilder();
    for (Collection.Hit[] query : hits) {
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
