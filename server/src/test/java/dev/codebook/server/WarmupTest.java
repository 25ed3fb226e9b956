package dev.codebook.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.IndexSpec;
import dev.codebook.index.vector.Similarity;
import dev.codebook.server.collection.Collection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The start-up warm-up searches every collection in process and then through the server's own
 * port, with the API key when the server wants one, without logging or counting those calls as
 * requests, and without changing any collection.
 */
class WarmupTest {

  @Test
  void warmsEveryCollectionThroughThePortWithTheKeyAndCountsNoRequest() throws Exception {
    ServerConfig config = ServerTestSupport.testConfig().toBuilder().metricsPort(0)
        .apiKeys(Set.of("the-key")).build();
    try (CodebookServer server = CodebookServer.start(config)) {
      Collection ivf = server.registry().create("ivf", 384, Similarity.COSINE,
          IndexSpec.parse("IVF16,PQ48x4fs,RFlat"));
      var train = ServerTestSupport.sample().train().head(1000);
      java.util.List<String> ids = new java.util.ArrayList<>();
      for (int i = 0; i < train.rows(); i++) {
        ids.add("v" + i);
      }
      ivf.upsert(ids, train, Collections.nCopies(train.rows(), java.util.Map.of()));
      ivf.build(new dev.codebook.index.IndexFactory.BuildOptions(1, 2, line -> { }));
      server.registry().create("empty", 8, Similarity.EUCLIDEAN, IndexSpec.parse("Flat"));

      Warmup.Result r = Warmup.run(server, Duration.ofMillis(1500));
      assertEquals(1, r.collections(), "the empty collection is skipped");
      assertTrue(r.searches() > 0, "in-process searches: " + r);
      assertTrue(r.calls() > 0, "calls through the port, with the API key: " + r);
      assertEquals(1000, ivf.info().vectorCount());

      String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + server.metricsPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertFalse(text.contains("method=\"codebook.v1.SearchService/Search\""),
          "warm-up calls counted as requests:\n" + text);
    }
  }

  @Test
  void aServerWithoutCollectionsHasNothingToWarm() throws Exception {
    try (CodebookServer server = CodebookServer.start(ServerTestSupport.testConfig())) {
      assertEquals(new Warmup.Result(0, 0, 0, 0), Warmup.run(server, Duration.ofSeconds(5)));
    }
  }
}
