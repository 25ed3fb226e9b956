package dev.codebook.server.metrics;

import dev.codebook.server.collection.Collection;
import dev.codebook.server.collection.CollectionRegistry;
import dev.codebook.server.job.JobRegistry;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.IOException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.function.IntSupplier;

/**
 * The server's Prometheus metrics, in a registry of its own (two servers in one JVM, as in
 * tests, do not share counters), optionally served over HTTP on their own port.
 *
 * <table>
 *   <caption>Metrics</caption>
 *   <tr><th>name</th><th>type, labels</th></tr>
 *   <tr><td>{@code codebook_grpc_requests_total}</td><td>counter; method, code</td></tr>
 *   <tr><td>{@code codebook_grpc_request_duration_seconds}</td><td>histogram; method</td></tr>
 *   <tr><td>{@code codebook_search_queries_total}</td><td>counter; collection</td></tr>
 *   <tr><td>{@code codebook_search_queue_depth}</td><td>gauge: searches waiting for a thread</td></tr>
 *   <tr><td>{@code codebook_search_active}</td><td>gauge: searches running</td></tr>
 *   <tr><td>{@code codebook_collection_vectors}</td><td>gauge; collection: live vectors</td></tr>
 *   <tr><td>{@code codebook_jobs_running}</td><td>gauge: operations not finished</td></tr>
 *   <tr><td>{@code jvm_*}, {@code process_*}</td><td>the client library's JVM metrics</td></tr>
 * </table>
 */
public final class ServerMetrics implements AutoCloseable {

  /** Latency buckets in seconds: 0.1 ms to 10 s, roughly x2.5 apart. */
  private static final double[] LATENCY_BUCKETS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
      0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter requests;
  private final Histogram latency;
  private final Counter queries;
  private final Counter scannedCodes;
  private final Counter exactScored;
  private final Counter mergedCalls;
  private final Counter splitParts;
  private HTTPServer http;

  public ServerMetrics(CollectionRegistry collections, ThreadPoolExecutor searchExecutor,
      JobRegistry jobs) {
    requests = Counter.builder().name("codebook_grpc_requests_total")
        .help("gRPC calls finished, by full method name and status code")
        .labelNames("method", "code").register(registry);
    latency = Histogram.builder().name("codebook_grpc_request_duration_seconds")
        .help("gRPC call latency from its start on the server to its status").unit(Unit.SECONDS)
        .labelNames("method").classicOnly().classicUpperBounds(LATENCY_BUCKETS)
        .register(registry);
    queries = Counter.builder().name("codebook_search_queries_total")
        .help("Queries searched (a Search call may carry many)")
        .labelNames("collection").register(registry);
    scannedCodes = Counter.builder().name("codebook_search_scanned_codes_total")
        .help("PQ codes scanned by searches (the IVF-PQ scan's work)")
        .labelNames("collection").register(registry);
    exactScored = Counter.builder().name("codebook_search_exact_scored_total")
        .help("Vectors scored exactly: flat search over unindexed vectors, and re-ranking")
        .labelNames("collection").register(registry);
    mergedCalls = Counter.builder().name("codebook_search_merged_calls_total")
        .help("Search calls answered by a search shared with other queued calls")
        .labelNames("collection").register(registry);
    splitParts = Counter.builder().name("codebook_search_split_parts_total")
        .help("Chunks of searches with many queries searched by a helping search thread")
        .labelNames("collection").register(registry);
    gauge("codebook_search_queue_depth", "Searches waiting for a search thread",
        () -> searchExecutor.getQueue().size());
    gauge("codebook_search_active", "Searches running", searchExecutor::getActiveCount);
    gauge("codebook_jobs_running", "Operations (index builds) not finished", jobs::running);
    GaugeWithCallback.builder().name("codebook_collection_vectors")
        .help("Live vectors per collection").labelNames("collection")
        .callback(cb -> {
          for (Collection c : collections.list(null, Integer.MAX_VALUE)) {
            cb.call(c.info().vectorCount(), c.id());
          }
        }).register(registry);
    JvmMetrics.builder().register(registry);
  }

  private void gauge(String name, String help, IntSupplier value) {
    GaugeWithCallback.builder().name(name).help(help)
        .callback(cb -> cb.call(value.getAsInt())).register(registry);
  }

  /** Counts one finished call. */
  public void request(String method, String code, double seconds) {
    requests.labelValues(method, code).inc();
    latency.labelValues(method).observe(seconds);
  }

  /** Counts the queries of one search and the work they took. */
  public void queries(String collectionId, int n, long codes, long exact) {
    queries.labelValues(collectionId).inc(n);
    if (codes > 0) {
      scannedCodes.labelValues(collectionId).inc(codes);
    }
    if (exact > 0) {
      exactScored.labelValues(collectionId).inc(exact);
    }
  }

  /** Counts {@code calls} calls answered together by one merged search. */
  public void mergedCalls(String collectionId, int calls) {
    mergedCalls.labelValues(collectionId).inc(calls);
  }

  /** Counts one chunk of a search with many queries searched by a helping search thread. */
  public void helpedChunk(String collectionId) {
    splitParts.labelValues(collectionId).inc();
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  /**
   * Serves {@code /metrics} on {@code host:port} (0 picks a free port).
   *
   * @return the port listened on
   */
  public int serve(String host, int port) throws IOException {
    try {
      http = HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart();
    } catch (IOException e) {
      throw new IOException("cannot serve metrics on " + host + ":" + port + ": " + e.getMessage(),
          e);
    }
    return http.getPort();
  }

  @Override
  public void close() {
    if (http != null) {
      http.close();
    }
  }
}
