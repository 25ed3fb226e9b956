package dev.codebook.server;

import static dev.codebook.server.ServerTestSupport.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.api.v1.CollectionServiceGrpc;
import dev.codebook.api.v1.GetCollectionRequest;
import dev.codebook.api.v1.ListCollectionsRequest;
import dev.codebook.api.v1.Metric;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** API keys, TLS and the Prometheus endpoint, each on a real server over real sockets. */
class SecurityAndMetricsTest {

  static final Path CERT = Path.of("src/test/resources/tls/cert.pem");
  static final Path KEY = Path.of("src/test/resources/tls/key.pem");

  static CollectionServiceGrpc.CollectionServiceBlockingStub withKey(ManagedChannel ch,
      String key) {
    Metadata h = new Metadata();
    h.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), key);
    return CollectionServiceGrpc.newBlockingStub(ch)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
  }

  @Test
  void withApiKeysEveryCallButHealthNeedsOneOfThem() throws Exception {
    ServerConfig config = ServerTestSupport.testConfig().toBuilder()
        .apiKeys(Set.of("first-key", "second-key")).build();
    try (CodebookServer server = CodebookServer.start(config)) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      try {
        ListCollectionsRequest list = ListCollectionsRequest.getDefaultInstance();
        StatusRuntimeException e = assertStatus(Status.Code.UNAUTHENTICATED, null,
            () -> CollectionServiceGrpc.newBlockingStub(ch).listCollections(list));
        assertTrue(e.getStatus().getDescription().contains("missing API key"));
        e = assertStatus(Status.Code.UNAUTHENTICATED, null,
            () -> withKey(ch, "Bearer wrong-key").listCollections(list));
        assertTrue(e.getStatus().getDescription().contains("not accepted"));
        e = assertStatus(Status.Code.UNAUTHENTICATED, null,
            () -> withKey(ch, "Basic Zmlyc3Qta2V5").listCollections(list));
        assertTrue(e.getStatus().getDescription().contains("bearer"));
        // Health checks need no key.
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(ch)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus());
        // Either key works, and the server kept serving through the refusals.
        assertEquals(0, withKey(ch, "Bearer first-key").listCollections(list)
            .getCollectionsCount());
        ServerTestSupport.create(new ServerTestSupport.Stubs(withKey(ch, "Bearer second-key"),
            null, null, null), "secured", 4, Metric.COSINE, "Flat");
        assertEquals(1, withKey(ch, "Bearer first-key").listCollections(list)
            .getCollectionsCount());
      } finally {
        ServerTestSupport.close(ch);
      }
    }
  }

  @Test
  void tlsServesClientsThatTrustItsCertificateAndRefusesPlaintext() throws Exception {
    ServerConfig config = ServerTestSupport.testConfig().toBuilder().tls(CERT, KEY).build();
    try (CodebookServer server = CodebookServer.start(config)) {
      ManagedChannel tls = NettyChannelBuilder.forAddress("localhost", server.port(),
          TlsChannelCredentials.newBuilder().trustManager(CERT.toFile()).build()).build();
      ManagedChannel plain = ServerTestSupport.channel(server);
      try {
        assertEquals(0, CollectionServiceGrpc.newBlockingStub(tls)
            .listCollections(ListCollectionsRequest.getDefaultInstance()).getCollectionsCount());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
            () -> CollectionServiceGrpc.newBlockingStub(plain)
                .withDeadlineAfter(5, java.util.concurrent.TimeUnit.SECONDS)
                .listCollections(ListCollectionsRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
      } finally {
        ServerTestSupport.close(tls);
        ServerTestSupport.close(plain);
      }
    }
  }

  @Test
  void metricsCountCallsByMethodAndCodeAndShowQueueAndCollectionSizes() throws Exception {
    ServerConfig config = ServerTestSupport.testConfig().toBuilder().metricsPort(0).build();
    try (CodebookServer server = CodebookServer.start(config)) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      try {
        ServerTestSupport.Stubs stubs = ServerTestSupport.Stubs.of(ch);
        String name = ServerTestSupport.create(stubs, "counted", 384, Metric.COSINE, "Flat")
            .getName();
        ServerTestSupport.upsertRows(stubs, name, ServerTestSupport.sample().train(), 0, 1500);
        for (int i = 0; i < 3; i++) {
          stubs.search().search(ServerTestSupport.searchRequest(name,
              ServerTestSupport.sample().test(), 0, 4, 10).build());
        }
        assertThrows(StatusRuntimeException.class, () -> stubs.collections().getCollection(
            GetCollectionRequest.newBuilder().setName("collections/missing").build()));
      } finally {
        ServerTestSupport.close(ch);
      }
      assertTrue(server.metricsPort() > 0);
      String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + server.metricsPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertEquals(3.0, sample(text, "codebook_grpc_requests_total",
          "code=\"OK\",method=\"codebook.v1.SearchService/Search\""), text);
      assertEquals(1.0, sample(text, "codebook_grpc_requests_total",
          "code=\"NOT_FOUND\",method=\"codebook.v1.CollectionService/GetCollection\""));
      assertEquals(3.0, sample(text, "codebook_grpc_request_duration_seconds_count",
          "method=\"codebook.v1.SearchService/Search\""));
      assertEquals(12.0, sample(text, "codebook_search_queries_total", "collection=\"counted\""));
      // No index yet: each of the 12 queries scored the 1,500 vectors exactly.
      assertEquals(18_000.0, sample(text, "codebook_search_exact_scored_total",
          "collection=\"counted\""));
      assertEquals(1500.0, sample(text, "codebook_collection_vectors", "collection=\"counted\""));
      assertEquals(0.0, sample(text, "codebook_search_queue_depth", null));
      assertTrue(text.contains("jvm_memory_used_bytes"), "JVM metrics");
    }
  }

  /** The value of one sample in Prometheus text format. */
  static double sample(String text, String metric, String labels) {
    String pattern = "(?m)^" + Pattern.quote(metric)
        + (labels == null ? "" : "\\{" + Pattern.quote(labels) + "\\}") + " (\\S+)$";
    Matcher m = Pattern.compile(pattern).matcher(text);
    assertTrue(m.find(), metric + "{" + labels + "} in\n" + text);
    return Double.parseDouble(m.group(1));
  }
}
