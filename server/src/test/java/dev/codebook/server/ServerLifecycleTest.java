package dev.codebook.server;

import static dev.codebook.server.ServerTestSupport.create;
import static dev.codebook.server.ServerTestSupport.sample;
import static dev.codebook.server.ServerTestSupport.searchRequest;
import static dev.codebook.server.ServerTestSupport.unpack;
import static dev.codebook.server.ServerTestSupport.upsertRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.codebook.api.v1.GetServerInfoRequest;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.api.v1.SearchServiceGrpc;
import dev.codebook.api.v1.ServerInfo;
import dev.codebook.api.v1.SystemServiceGrpc;
import dev.codebook.index.vector.FloatMatrix;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The server as infrastructure: health, reflection, admission control, deadlines and graceful
 * shutdown, each against a real server of its own on a free port.
 */
class ServerLifecycleTest {

  /** A search that keeps one search thread busy for a while: many queries over 5,000 vectors. */
  static SearchRequest slowSearch(String name, int queries) {
    FloatMatrix train = sample().train();
    SearchRequest.Builder r = SearchRequest.newBuilder().setCollection(name).setTopK(10);
    SearchRequest one = searchRequest(name, train, 0, 100, 10).build();
    for (int i = 0; i < queries; i++) {
      r.addQueries(one.getQueries(i % 100));
    }
    return r.build();
  }

  static String loadSlowCollection(ServerTestSupport.Stubs stubs) {
    String name = create(stubs, "slow", 384, Metric.COSINE, "Flat").getName();
    upsertRows(stubs, name, sample().train(), 0, sample().train().rows());
    return name;
  }

  static void awaitTrue(String what, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(2);
    }
  }

  @Test
  void healthReflectionAndServerInfo() throws Exception {
    try (CodebookServer server = CodebookServer.start(ServerTestSupport.testConfig())) {
      ManagedChannel channel = ServerTestSupport.channel(server);
      try {
        var health = HealthGrpc.newBlockingStub(channel);
        assertEquals(ServingStatus.SERVING,
            health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
        assertEquals(ServingStatus.SERVING, health.check(HealthCheckRequest.newBuilder()
            .setService("codebook.v1.SearchService").build()).getStatus());

        Set<String> services = new TreeSet<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
            .serverReflectionInfo(new StreamObserver<>() {
              @Override
              public void onNext(ServerReflectionResponse r) {
                for (ServiceResponse s : r.getListServicesResponse().getServiceList()) {
                  services.add(s.getName());
                }
              }

              @Override
              public void onError(Throwable t) {
                done.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                done.complete(null);
              }
            });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        done.get(10, TimeUnit.SECONDS);
        assertTrue(services.containsAll(List.of("codebook.v1.CollectionService",
            "codebook.v1.VectorService", "codebook.v1.SearchService", "codebook.v1.SystemService",
            "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection")), services.toString());

        ServerInfo info = SystemServiceGrpc.newBlockingStub(channel)
            .getServerInfo(GetServerInfoRequest.getDefaultInstance());
        assertEquals("codebook.v1", info.getApiVersion());
        assertFalse(info.getKernels().isEmpty());
        assertFalse(info.getVersion().isEmpty());
      } finally {
        ServerTestSupport.close(channel);
      }
    }
  }

  @Test
  void aTakenPortIsAClearError() throws Exception {
    try (CodebookServer first = CodebookServer.start(ServerTestSupport.testConfig())) {
      IOException e = assertThrows(IOException.class, () -> CodebookServer.start(
          ServerTestSupport.testConfig().withPort(first.port())));
      assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + first.port()),
          e.getMessage());
    }
  }

  @Test
  void anIdleConnectionIsClosedAfterMaxConnectionIdleAndTheClientReconnects() throws Exception {
    ServerConfig config = ServerTestSupport.testConfig().toBuilder()
        .maxConnectionIdle(Duration.ofMillis(300)).build();
    try (CodebookServer server = CodebookServer.start(config)) {
      ManagedChannel channel = ServerTestSupport.channel(server);
      try {
        var collections = dev.codebook.api.v1.CollectionServiceGrpc.newBlockingStub(channel);
        var list = dev.codebook.api.v1.ListCollectionsRequest.getDefaultInstance();
        collections.listCollections(list);
        assertEquals(io.grpc.ConnectivityState.READY, channel.getState(false));
        // The server sends GOAWAY to a connection without calls; the channel goes IDLE.
        awaitTrue("the idle connection to be closed",
            () -> channel.getState(false) == io.grpc.ConnectivityState.IDLE);
        // The next call simply reconnects.
        assertEquals(0, collections.listCollections(list).getCollectionsCount());
      } finally {
        ServerTestSupport.close(channel);
      }
    }
  }

  @Test
  void aFullSearchQueueAnswersResourceExhaustedAndKeepsServing() throws Exception {
    ServerConfig config = ServerTestSupport.testConfig().withSearchThreads(1)
        .withSearchQueueCapacity(1);
    try (CodebookServer server = CodebookServer.start(config)) {
      ManagedChannel channel = ServerTestSupport.channel(server);
      try {
        ServerTestSupport.Stubs stubs = ServerTestSupport.Stubs.of(channel);
        String name = loadSlowCollection(stubs);
        SearchRequest slow = slowSearch(name, 400);
        var async = SearchServiceGrpc.newFutureStub(channel);
        List<ListenableFuture<SearchResponse>> calls = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          calls.add(async.search(slow));
        }
        int ok = 0, exhausted = 0;
        for (ListenableFuture<SearchResponse> f : calls) {
          try {
            assertEquals(400, f.get(60, TimeUnit.SECONDS).getResultsCount());
            ok++;
          } catch (ExecutionException e) {
            StatusRuntimeException s = (StatusRuntimeException) e.getCause();
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, s.getStatus().getCode(), s.toString());
            com.google.rpc.Status details = StatusProto.fromThrowable(s);
            assertEquals("SEARCH_QUEUE_FULL", unpack(details, ErrorInfo.class).getReason());
            assertNotNull(unpack(details, RetryInfo.class));
            exhausted++;
          }
        }
        assertTrue(ok >= 2, "one running and one queued search complete: " + ok);
        assertTrue(exhausted >= 1, "the rest are turned away: " + exhausted);
        // And the server serves on.
        assertEquals(10, stubs.search().search(searchRequest(name, sample().test(), 0, 1, 10)
            .build()).getResults(0).getNeighborsCount());
      } finally {
        ServerTestSupport.close(channel);
      }
    }
  }

  /** With two threads the call is shared out: the deadline must stop the helper's chunks too. */
  @ParameterizedTest(name = "{0} search threads")
  @ValueSource(ints = {1, 2})
  void anExpiredDeadlineStopsTheSearchOnTheServer(int threads) throws Exception {
    ServerConfig config = ServerTestSupport.testConfig().withSearchThreads(threads);
    try (CodebookServer server = CodebookServer.start(config)) {
      ManagedChannel channel = ServerTestSupport.channel(server);
      try {
        ServerTestSupport.Stubs stubs = ServerTestSupport.Stubs.of(channel);
        String name = loadSlowCollection(stubs);
        SearchRequest slow = slowSearch(name, 10_000);
        long t0 = System.nanoTime();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
            () -> stubs.search().withDeadlineAfter(300, TimeUnit.MILLISECONDS).search(slow));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        // The search thread gives up within one group of queries, long before 10,000 are done.
        awaitTrue("the search to stop", () -> server.activeSearches() == 0);
        long stoppedMs = (System.nanoTime() - t0) / 1_000_000;
        // Time the full search to compare.
        long t1 = System.nanoTime();
        stubs.search().search(slowSearch(name, 1000));
        long thousandMs = (System.nanoTime() - t1) / 1_000_000;
        System.out.printf("[deadline] stopped after %d ms; 1,000 queries take %d ms, so 10,000"
            + " about %d ms%n", stoppedMs, thousandMs, 10 * thousandMs);
        assertTrue(stoppedMs < 300 + 5 * thousandMs,
            "stopped after " + stoppedMs + " ms, 10,000 queries take ~" + 10 * thousandMs);
      } finally {
        ServerTestSupport.close(channel);
      }
    }
  }

  @Test
  void gracefulShutdownLetsTheSearchInFlightFinish() throws Exception {
    ServerConfig config = ServerTestSupport.testConfig().withSearchThreads(1)
        .withShutdownGrace(Duration.ofSeconds(60));
    CodebookServer server = CodebookServer.start(config);
    ManagedChannel channel = ServerTestSupport.channel(server);
    try {
      ServerTestSupport.Stubs stubs = ServerTestSupport.Stubs.of(channel);
      String name = loadSlowCollection(stubs);
      SearchRequest slow = slowSearch(name, 2000);
      ListenableFuture<SearchResponse> inFlight =
          SearchServiceGrpc.newFutureStub(channel).search(slow);
      awaitTrue("the search to start", () -> server.activeSearches() == 1);

      CompletableFuture<Boolean> shutdown =
          CompletableFuture.supplyAsync(() -> server.shutdown(Duration.ofSeconds(60)));
      awaitTrue("the shutdown to begin", server::isShuttingDown);
      assertFalse(inFlight.isDone(), "the search should still be running; make it longer");
      // New calls are turned away while the server drains.
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
          () -> stubs.search().withDeadlineAfter(10, TimeUnit.SECONDS)
              .search(searchRequest(name, sample().test(), 0, 1, 10).build()));
      assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused.toString());

      assertTrue(shutdown.get(90, TimeUnit.SECONDS), "every call finished within the grace");
      SearchResponse r = inFlight.get(10, TimeUnit.SECONDS);
      assertEquals(2000, r.getResultsCount());
      for (int q = 0; q < 2000; q++) {
        assertEquals(10, r.getResults(q).getNeighborsCount());
      }
    } finally {
      ServerTestSupport.close(channel);
      server.close();
    }
  }
}
