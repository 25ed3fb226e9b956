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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code codebook.v1.SearchService}. A request is checked on the calling gRPC thread, then
 * searched on the bounded search executor, never on a Netty event loop. When the executor's
 * queue is full the call fails fast with RESOURCE_EXHAUSTED instead of queueing without bound;
 * once the server shuts the executor down, with UNAVAILABLE. The call's context (deadline,
 * cancellation) is polled between groups of queries and every 32 lists inside an IVF-PQ scan,
 * and a search whose call ended while it waited in the queue is not started. Unfiltered calls
 * queued behind each other with the same collection and parameters are searched as one batch
 * ({@link SearchCall}); a call with many queries is shared out over the search threads ({@link
 * #search(SearchCall, FloatMatrix, BooleanSupplier)}).
 */
public final class SearchGrpcService extends SearchServiceGrpc.SearchServiceImplBase {

  private static final Logger LOG = LoggerFactory.getLogger(SearchGrpcService.class);

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
  private final int maxBatch;

  /** Calls with at least this many queries are shared out over the search threads. */
  public static final int MIN_SPLIT_QUERIES = 16;

  /**
   * @param executor the bounded search executor; its rejections become RESOURCE_EXHAUSTED, or
   *     UNAVAILABLE once it is shut down
   * @param queueCapacity the capacity of its queue, for the error message
   * @param maxBatch most queries merged from queued calls into one search; 1 for none
   */
  public SearchGrpcService(CollectionRegistry registry, ThreadPoolExecutor executor,
      int queueCapacity, int maxBatch, ServerMetrics metrics) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be positive, got " + maxBatch);
    }
    this.maxBatch = maxBatch;
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
    SearchCall call = new SearchCall(context, collection, queries, k, params, filter,
        request.getIncludeVectors(), request.getIncludeAttributes(), responseObserver);
    try {
      executor.execute(call);
    } catch (RejectedExecutionException e) {
      responseObserver.onError(executor.isShutdown()
          ? StatusMapper.draining()
          : StatusMapper.searchQueueFull(executor.getMaximumPoolSize(), queueCapacity));
    }
  }

  /**
   * A checked search call waiting in the executor's queue. The thread that takes one also takes
   * the compatible calls queued right behind it, up to {@link #maxBatch} queries, and answers them
   * with one batched search: under load, single-query calls then share the batched kernels' work
   * (the rotation, the coarse probe and the score tables as matrix products) as one call with
   * many queries would. An idle server answers each call alone, with no waiting for company.
   */
  private final class SearchCall implements Runnable {
    final Context context;
    final Collection collection;
    final FloatMatrix queries;
    final int k;
    final SearchParams params;
    final Filters filter;
    final boolean withValues;
    final boolean withAttributes;
    final StreamObserver<SearchResponse> observer;

    SearchCall(Context context, Collection collection, FloatMatrix queries, int k,
        SearchParams params, Filters filter, boolean withValues, boolean withAttributes,
        StreamObserver<SearchResponse> observer) {
      this.context = context;
      this.collection = collection;
      this.queries = queries;
      this.k = k;
      this.params = params;
      this.filter = filter;
      this.withValues = withValues;
      this.withAttributes = withAttributes;
      this.observer = observer;
    }

    /** Whether {@code other} can be searched in one batch with this call. */
    boolean joins(SearchCall other, int room) {
      return filter == null && other.filter == null && queries.rows() <= room
          && collection == other.collection && k == other.k && params.equals(other.params)
          && withValues == other.withValues && withAttributes == other.withAttributes;
    }

    @Override
    public void run() {
      List<SearchCall> calls = maxBatch > 1 && filter == null && queries.rows() < maxBatch
          ? withFollowers() : List.of(this);
      if (calls.size() == 1) {
        context.run(() -> searchAlone(this));
      } else {
        searchTogether(calls);
      }
    }

    /** This call and the compatible calls at the head of the queue, taken off it. */
    private List<SearchCall> withFollowers() {
      BlockingQueue<Runnable> queue = executor.getQueue();
      List<SearchCall> calls = null;
      int rows = queries.rows();
      while (rows < maxBatch) {
        if (!(queue.peek() instanceof SearchCall next) || !next.joins(this, maxBatch - rows)) {
          break;
        }
        if (queue.remove(next)) { // false: another search thread took it first
          if (calls == null) {
            calls = new ArrayList<>();
            calls.add(this);
          }
          calls.add(next);
          rows += next.queries.rows();
        }
      }
      return calls == null ? List.of(this) : calls;
    }
  }

  private void searchAlone(SearchCall call) {
    Context context = call.context;
    StreamObserver<SearchResponse> observer = call.observer;
    SearchResponse response;
    try {
      if (context.isCancelled()) {
        observer.onError(StatusMapper.cancelled(context, "the search waited in the queue"));
        return;
      }
      Collection.Hit[][] hits = call.filter == null
          ? search(call, call.queries, context::isCancelled)
          : countedSearch(call, call.queries, call.filter.filter(), context::isCancelled);
      response = toResponse(hits, 0, hits.length);
    } catch (FilterException e) {
      observer.onError(StatusMapper.toStatusException(call.filter.toInvalidField(e)));
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

  /**
   * Searches compatible calls as one batch and answers each with its own queries' rows. A call
   * cancelled while it queued is answered at once and left out; the batch stops early only when
   * every call in it has been cancelled.
   */
  private void searchTogether(List<SearchCall> queued) {
    List<SearchCall> calls = new ArrayList<>(queued.size());
    int rows = 0;
    for (SearchCall c : queued) {
      if (c.context.isCancelled()) {
        c.observer.onError(StatusMapper.cancelled(c.context, "the search waited in the queue"));
      } else {
        calls.add(c);
        rows += c.queries.rows();
      }
    }
    if (calls.size() <= 1) {
      for (SearchCall c : calls) {
        c.context.run(() -> searchAlone(c));
      }
      return;
    }
    SearchCall first = calls.get(0);
    FloatMatrix all = FloatMatrix.allocate(rows, first.queries.dim());
    int at = 0;
    for (SearchCall c : calls) {
      float[] q = c.queries.data();
      System.arraycopy(q, 0, all.data(), at, q.length);
      at += q.length;
    }
    Collection.Hit[][] hits;
    try {
      hits = search(first, all, () -> allCancelled(calls));
      metrics.mergedCalls(first.collection.id(), calls.size());
    } catch (CancellationException e) {
      for (SearchCall c : calls) {
        answer(c, null, StatusMapper.cancelled(c.context, e.getMessage()));
      }
      return;
    } catch (RuntimeException e) {
      for (SearchCall c : calls) {
        answer(c, null, StatusMapper.toStatusException(e));
      }
      return;
    }
    int from = 0;
    for (SearchCall c : calls) {
      int to = from + c.queries.rows();
      answer(c, toResponse(hits, from, to), null);
      from = to;
    }
  }

  /**
   * Answers one call of a merged search with {@code response}, or {@code error} when that is
   * null. A call that ended meanwhile (its deadline passed) may refuse the answer; the calls
   * after it in the batch must still get theirs.
   */
  private static void answer(SearchCall c, SearchResponse response, Throwable error) {
    try {
      if (response != null) {
        c.observer.onNext(response);
        c.observer.onCompleted();
      } else {
        c.observer.onError(error);
      }
    } catch (RuntimeException e) {
      LOG.debug("a merged search's call ended before its answer: {}", e.toString());
    }
  }

  /**
   * Searches {@code queries} with {@code call}'s collection and parameters, unfiltered. A batch
   * of at least {@link #MIN_SPLIT_QUERIES} queries on a server with no call waiting is cut into
   * chunks that this thread and the other search threads take in turn ({@link SharedBatch}): a
   * thread that frees up while the batch is under way joins it, so one call with many queries
   * takes a fraction of the time, as FAISS spreads a batch over its threads, and a call that
   * starts while the others are busy still gets their help the moment they are done. Chunks
   * nobody has taken are searched here: the batch never waits on the queue.
   */
  private Collection.Hit[][] search(SearchCall call, FloatMatrix queries,
      BooleanSupplier cancelled) {
    int n = queries.rows();
    int threads = executor.getMaximumPoolSize();
    // With calls waiting, the other threads have work of their own; helping would only
    // reorder it.
    if (n < MIN_SPLIT_QUERIES || threads < 2 || !executor.getQueue().isEmpty()) {
      return countedSearch(call, queries, null, cancelled);
    }
    SharedBatch batch = new SharedBatch(call, queries, chunkRows(n, threads), cancelled);
    for (int h = Math.min(threads - 1, batch.chunks - 1); h > 0; h--) {
      try {
        executor.execute(batch::help);
      } catch (RejectedExecutionException e) {
        break; // the queue filled meanwhile, or the server is stopping: fewer helpers
      }
    }
    return batch.searchAndAwait();
  }

  /**
   * Rows in a chunk of a shared batch of {@code n}: about four chunks a thread, so that a thread
   * joining late still finds work, and at least half of {@link #MIN_SPLIT_QUERIES}, so that each
   * chunk keeps the batched kernels (rotation, coarse probe, tables) busy.
   */
  public static int chunkRows(int n, int threads) {
    return Math.max(MIN_SPLIT_QUERIES / 2, (n + 4 * threads - 1) / (4 * threads));
  }

  /**
   * One call's queries cut into chunks of {@code chunk} rows that any search thread may take: the
   * calling thread takes them first, helpers queued on the executor take the rest if they start
   * in time (a helper that finds none left returns at once). The caller then waits only for
   * chunks other threads are searching, never for a helper still in the queue.
   */
  private final class SharedBatch {
    final SearchCall call;
    final FloatMatrix queries;
    final BooleanSupplier cancelled;
    final int n;
    final int chunk;
    final int chunks;
    final Collection.Hit[][] out;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger unfinished;
    final CompletableFuture<Void> done = new CompletableFuture<>();
    final AtomicReference<RuntimeException> failure = new AtomicReference<>();

    SharedBatch(SearchCall call, FloatMatrix queries, int chunk, BooleanSupplier cancelled) {
      this.call = call;
      this.queries = queries;
      this.cancelled = cancelled;
      this.n = queries.rows();
      this.chunk = chunk;
      this.chunks = (n + chunk - 1) / chunk;
      this.out = new Collection.Hit[n][];
      this.unfinished = new AtomicInteger(chunks);
    }

    /** A helper's turn: searches chunks until none is left. */
    void help() {
      searchChunks(true);
    }

    /** Searches chunks until none is left; a helper counts each in the metrics. */
    void searchChunks(boolean helper) {
      for (int c; (c = next.getAndIncrement()) < chunks; ) {
        int from = c * chunk;
        int to = Math.min(n, from + chunk);
        try {
          if (failure.get() == null) {
            Collection.Hit[][] part = countedSearch(call, queries.slice(from, to), null,
                cancelled);
            System.arraycopy(part, 0, out, from, part.length);
            if (helper) {
              metrics.helpedChunk(call.collection.id());
            }
          }
        } catch (RuntimeException e) {
          failure.compareAndSet(null, e);
        } finally {
          // Each chunk's rows (and count) are written before its count drops: whoever sees
          // zero sees all, so the answer never goes out ahead of them.
          if (unfinished.decrementAndGet() == 0) {
            done.complete(null);
          }
        }
      }
    }

    /** The caller's part: searches chunks, waits for those other threads took, and answers. */
    Collection.Hit[][] searchAndAwait() {
      searchChunks(false);
      try {
        done.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CancellationException("the search was interrupted");
      } catch (ExecutionException e) {
        throw new IllegalStateException(e.getCause()); // never completed exceptionally
      }
      RuntimeException e = failure.get();
      if (e != null) {
        throw e;
      }
      return out;
    }
  }

  /** One search on this thread, counted in the metrics with the work it took. */
  private Collection.Hit[][] countedSearch(SearchCall call, FloatMatrix queries,
      dev.codebook.index.filter.Filter filter, BooleanSupplier cancelled) {
    long codes = ScanStats.codes(), exact = ScanStats.exact(); // this thread's work so far
    Collection.Hit[][] hits = call.collection.search(queries, call.k, call.params, filter,
        call.withValues, call.withAttributes, cancelled);
    metrics.queries(call.collection.id(), hits.length, ScanStats.codes() - codes,
        ScanStats.exact() - exact);
    return hits;
  }

  private static boolean allCancelled(List<SearchCall> calls) {
    for (int i = 0; i < calls.size(); i++) {
      if (!calls.get(i).context.isCancelled()) {
        return false;
      }
    }
    return true;
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
