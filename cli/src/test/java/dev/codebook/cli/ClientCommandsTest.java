package dev.codebook.cli;

import static dev.codebook.cli.MainTest.SAMPLE;
import static dev.codebook.cli.MainTest.assertCleanError;
import static dev.codebook.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.codebook.server.CodebookServer;
import dev.codebook.server.ServerConfig;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The client subcommands against the real server on a free port. */
class ClientCommandsTest {

  static CodebookServer server;
  static String target;

  @BeforeAll
  static void start() throws Exception {
    server = CodebookServer.start(
        ServerConfig.defaults().withPort(0).withShutdownGrace(Duration.ofSeconds(5))
            // The backup test's directories are JUnit temporary directories.
            .withBackupRoot(java.nio.file.Path.of(System.getProperty("java.io.tmpdir"))));
    target = "127.0.0.1:" + server.port();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /**
   * The sample through every client command: ingest (one acknowledgement per batch), get,
   * list, search, build, then recall@10 of {@code search --queries} against the file's exact
   * neighbours, which must reach floors a little under what it measures (0.87 at nprobe 16,
   * rerank 4; 0.41 at nprobe 1 without re-ranking), so a search that loses neighbours fails.
   */
  @Test
  void ingestGetSearchBuildDelete() {
    MainTest.Run ingest = run("ingest", "--target", target, "--collection", "cli", "--create",
        "--metric", "cosine", "--index", "IVF16,PQ48x4fs,RFlat", "--data", SAMPLE.toString(),
        "--id-prefix", "", "--batch", "2000", "--json");
    assertEquals(0, ingest.code(), ingest.err());
    String[] lines = ingest.out().strip().split("\n");
    assertEquals(3, lines.length, ingest.out());
    long last = 0;
    for (String line : lines) {
      long ack = JsonParser.parseString(line).getAsJsonObject().get("acknowledged").getAsLong();
      assertTrue(ack > last, ingest.out());
      last = ack;
    }
    assertEquals(5000, last);

    MainTest.Run get = run("collections", "get", "--target", target, "--name", "cli", "--json");
    assertEquals(0, get.code(), get.err());
    JsonObject c = JsonParser.parseString(get.out().strip()).getAsJsonObject();
    assertEquals(5000, c.get("vector_count").getAsLong());
    assertEquals("UNTRAINED", c.get("state").getAsString());

    MainTest.Run list = run("collections", "list", "--target", target);
    assertEquals(0, list.code(), list.err());
    assertTrue(list.out().contains("cli"), list.out());

    MainTest.Run search = run("search", "--target", target, "--collection", "cli", "--data",
        SAMPLE.toString(), "--query-row", "0", "--k", "7", "--json");
    assertEquals(0, search.code(), search.err());
    JsonArray results = JsonParser.parseString(search.out().strip()).getAsJsonObject()
        .getAsJsonArray("queries").get(0).getAsJsonObject().getAsJsonArray("results");
    assertEquals(7, results.size());

    MainTest.Run text = run("search", "--target", target, "--collection", "cli", "--vector",
        "1" + ",0".repeat(383), "--k", "3");
    assertEquals(0, text.code(), text.err());
    assertEquals(4, text.out().strip().lines().count(), text.out());

    assertCleanError(run("build", "--target", target, "--collection", "cli", "--index", "Flat"),
        "fixed at creation");
    MainTest.Run build = run("build", "--target", target, "--collection", "cli", "--index",
        "IVF16,PQ48x4fs,RFlat", "--json");
    assertEquals(0, build.code(), build.err());
    assertEquals("READY", JsonParser.parseString(build.out().strip()).getAsJsonObject()
        .get("state").getAsString());

    double wide = recallOfSearch("cli", "16", "4");
    double narrow = recallOfSearch("cli", "1", "1");
    assertTrue(wide >= 0.85, "recall@10 at nprobe 16, rerank 4: " + wide);
    assertTrue(narrow >= 0.39, "recall@10 at nprobe 1, rerank 1: " + narrow);
    assertTrue(wide > narrow + 0.3, "the search settings reach the server");

    MainTest.Run delete = run("collections", "delete", "--target", target, "--name", "cli");
    assertEquals(0, delete.code(), delete.err());
    assertCleanError(run("collections", "get", "--target", target, "--name", "cli"), "NOT_FOUND");
  }

  /** {@code search --queries 200} of the sample's test queries: recall@10 it prints. */
  static double recallOfSearch(String collection, String nprobe, String rerank) {
    MainTest.Run recall = run("search", "--target", target, "--collection", collection,
        "--data", SAMPLE.toString(), "--queries", "200", "--nprobe", nprobe, "--rerank", rerank,
        "--json");
    assertEquals(0, recall.code(), recall.err());
    JsonObject r = JsonParser.parseString(recall.out().strip()).getAsJsonObject();
    assertEquals(200, r.getAsJsonArray("queries").size());
    return r.get("recall@10").getAsDouble();
  }

  @Test
  void ingestWithProgressAndRecallAgainstTheFullSample() {
    MainTest.Run ingest = run("ingest", "--target", target, "--collection", "full", "--create",
        "--data", SAMPLE.toString(), "--id-prefix", "row-");
    assertEquals(0, ingest.code(), ingest.err());
    assertTrue(ingest.err().contains("[ingest] ["), ingest.err());
    assertTrue(ingest.out().contains("ingested 5,000 vectors"), ingest.out());
    // Untrained: exact search, so recall@10 against the file's neighbors is 1.
    MainTest.Run search = run("search", "--target", target, "--collection", "full", "--data",
        SAMPLE.toString(), "--queries", "10", "--id-prefix", "row-");
    assertEquals(0, search.code(), search.err());
    assertTrue(search.out().contains("recall@10 1.0000"), search.out());
    // Without --id-prefix no id reads as a row: not a recall of 0, an error naming the fix.
    MainTest.Run noPrefix = run("search", "--target", target, "--collection", "full", "--data",
        SAMPLE.toString(), "--queries", "10");
    assertCleanError(noPrefix, "cannot measure recall@10: none of the 100 ids returned is a row");
    assertTrue(noPrefix.err().contains("no --id-prefix was given")
        && noPrefix.err().contains("add --id-prefix row-"), noPrefix.err());
    assertCleanError(run("search", "--target", target, "--collection", "full", "--data",
        SAMPLE.toString(), "--queries", "10", "--id-prefix", "doc-", "--json"),
        "do not start with --id-prefix doc-; they look like 'row-' + row number");
    assertEquals(0, run("collections", "delete", "--target", target, "--name", "full").code());
  }

  @Test
  void buildRunsAsAJobThatTheJobsCommandsFollow() {
    assertEquals(0, run("ingest", "--target", target, "--collection", "jobs", "--create",
        "--index", "IVF32,PQ48x4fs", "--data", SAMPLE.toString(), "--json").code());
    MainTest.Run started = run("build", "--target", target, "--collection", "jobs", "--no-wait",
        "--json");
    assertEquals(0, started.code(), started.err());
    JsonObject op = JsonParser.parseString(started.out().strip()).getAsJsonObject();
    String name = op.get("name").getAsString();
    assertTrue(name.startsWith("operations/"), name);
    assertEquals("collections/jobs", op.get("collection").getAsString());

    MainTest.Run waited = run("jobs", "wait", "--target", target, "--name", name);
    assertEquals(0, waited.code(), waited.err());
    assertTrue(waited.err().contains("[wait] ["), "a progress bar: " + waited.err());
    assertTrue(waited.out().contains(name) && waited.out().contains("SUCCEEDED"), waited.out());

    MainTest.Run get = run("jobs", "get", "--target", target, "--name", name, "--json");
    assertEquals(0, get.code(), get.err());
    JsonObject done = JsonParser.parseString(get.out().strip()).getAsJsonObject();
    assertEquals("SUCCEEDED", done.get("state").getAsString());
    assertEquals(1.0, done.get("progress").getAsDouble());
    assertEquals(5000, done.get("training_vector_count").getAsLong());

    MainTest.Run list = run("jobs", "list", "--target", target, "--collection", "jobs", "--json");
    assertEquals(0, list.code(), list.err());
    assertTrue(list.out().contains(name), list.out());
    // Cancelling a finished job leaves it as it was.
    MainTest.Run cancel = run("jobs", "cancel", "--target", target, "--name", name);
    assertEquals(0, cancel.code(), cancel.err());
    assertTrue(cancel.out().contains("SUCCEEDED"), cancel.out());

    // build waits by default, drawing its progress on stderr.
    MainTest.Run build = run("build", "--target", target, "--collection", "jobs");
    assertEquals(0, build.code(), build.err());
    assertTrue(build.err().contains("[build] ["), build.err());
    assertTrue(build.out().contains("built collections/jobs"), build.out());

    assertCleanError(run("jobs", "get", "--target", target, "--name", "build-index-99999"),
        "NOT_FOUND");
    assertEquals(0, run("collections", "delete", "--target", target, "--name", "jobs").code());
  }

  @Test
  void apiKeyAndTlsOptionsReachASecuredServer() throws Exception {
    java.nio.file.Path tls = java.nio.file.Path.of("../server/src/test/resources/tls");
    ServerConfig config = ServerConfig.defaults().withPort(0)
        .withShutdownGrace(Duration.ofSeconds(5)).toBuilder()
        .tls(tls.resolve("cert.pem"), tls.resolve("key.pem"))
        .apiKeys(java.util.Set.of("cli-secret")).build();
    try (CodebookServer secured = CodebookServer.start(config)) {
      String at = "localhost:" + secured.port();
      String ca = tls.resolve("cert.pem").toString();
      MainTest.Run ok = run("collections", "list", "--target", at, "--tls-ca", ca, "--api-key",
          "cli-secret", "--json");
      assertEquals(0, ok.code(), ok.err());
      assertCleanError(run("collections", "list", "--target", at, "--tls-ca", ca, "--api-key",
          "wrong"), "UNAUTHENTICATED");
      assertCleanError(run("collections", "list", "--target", at, "--tls-ca", ca, "--retries",
          "0"), "UNAUTHENTICATED: missing API key");
      // loadtest reaches it with the same options
      MainTest.Run load = run("loadtest", "--target", at, "--tls-ca", ca, "--api-key",
          "cli-secret", "--data", SAMPLE.toString(), "--collection", "tls-lt", "--load",
          "--concurrency", "1", "--warmup", "0", "--jit-warmup", "0", "--duration", "0.3",
          "--json");
      assertEquals(0, load.code(), load.err());
      JsonObject s = LoadTestCommandTest.lastLine(load);
      assertEquals(0, s.getAsJsonObject("errors").size(), s.toString());
      assertTrue(s.get("requests").getAsLong() > 0, s.toString());
    }
  }

  @Test
  void searchWithAFilterExpression() throws Exception {
    var base = dev.codebook.index.vector.AnnBenchmarksHdf5.read(SAMPLE).train();
    try (var c = dev.codebook.client.CodebookClient.builder().target(target).build()) {
      c.createCollection("cli-filter", base.dim(), dev.codebook.api.v1.Metric.COSINE, "Flat");
      var records = new java.util.ArrayList<dev.codebook.client.VectorRecord>();
      for (int i = 0; i < 100; i++) {
        records.add(new dev.codebook.client.VectorRecord("r" + i, base.row(i),
            java.util.Map.of("lang", i % 4 == 0 ? "en" : "de", "year", 2000L + i)));
      }
      c.upsert("cli-filter", records);
    }
    MainTest.Run search = run("search", "--target", target, "--collection", "cli-filter",
        "--data", SAMPLE.toString(), "--query-row", "0", "--k", "100", "--attributes",
        "--filter", "lang = en AND year >= 2050", "--json");
    assertEquals(0, search.code(), search.err());
    JsonArray results = JsonParser.parseString(search.out().strip()).getAsJsonObject()
        .getAsJsonArray("queries").get(0).getAsJsonObject().getAsJsonArray("results");
    assertEquals(12, results.size(), search.out()); // rows 52, 56, ..., 96
    for (var hit : results) {
      JsonObject attrs = hit.getAsJsonObject().getAsJsonObject("attributes");
      assertEquals("en", attrs.get("lang").getAsString());
      assertTrue(attrs.get("year").getAsLong() >= 2050);
    }
    assertCleanError(run("search", "--target", target, "--collection", "cli-filter", "--vector",
        "1" + ",0".repeat(383), "--filter", "lang = = en"), "INVALID_ARGUMENT");
    assertEquals(0, run("collections", "delete", "--target", target, "--name", "cli-filter").code());
  }

  @Test
  void backupAndRestoreACollectionThroughTheCli(@org.junit.jupiter.api.io.TempDir
      java.nio.file.Path tmp) {
    assertEquals(0, run("ingest", "--target", target, "--collection", "cli-bak", "--create",
        "--data", SAMPLE.toString(), "--limit", "700", "--json").code());
    java.nio.file.Path dir = tmp.resolve("cli-bak-1");
    MainTest.Run backup = run("collections", "backup", "--target", target, "--name", "cli-bak",
        "--to", dir.toString(), "--json");
    assertEquals(0, backup.code(), backup.err());
    JsonObject b = JsonParser.parseString(backup.out().strip()).getAsJsonObject();
    assertEquals("collections/cli-bak", b.get("name").getAsString());
    assertEquals(700, b.get("vector_count").getAsLong());
    assertTrue(b.get("file_count").getAsInt() > 0 && b.get("size_bytes").getAsLong() > 0,
        backup.out());
    assertTrue(java.nio.file.Files.exists(
        dir.resolve("manifest_" + b.get("manifest_generation").getAsLong())), backup.out());
    assertTrue(backup.err().contains("[backup]"), backup.err());

    MainTest.Run restore = run("collections", "restore", "--target", target, "--name",
        "cli-bak-copy", "--from", dir.toString(), "--json");
    assertEquals(0, restore.code(), restore.err());
    JsonObject c = JsonParser.parseString(restore.out().strip()).getAsJsonObject();
    assertEquals("collections/cli-bak-copy", c.get("name").getAsString());
    assertEquals(700, c.get("vector_count").getAsLong());

    MainTest.Run text = run("collections", "restore", "--target", target, "--name", "cli-bak-2",
        "--from", dir.toString());
    assertEquals(0, text.code(), text.err());
    assertTrue(text.out().contains("restored collections/cli-bak-2"), text.out());
    assertCleanError(run("collections", "restore", "--target", target, "--name", "cli-bak-copy",
        "--from", dir.toString()), "ALREADY_EXISTS");
    assertCleanError(run("collections", "backup", "--target", target, "--name", "cli-bak",
        "--to", dir.toString()), "FAILED_PRECONDITION");
    assertCleanError(run("collections", "restore", "--target", target, "--name", "cli-bak-3",
        "--from", tmp.resolve("nothing-here").toString()), "FAILED_PRECONDITION");
    for (String name : new String[] {"cli-bak", "cli-bak-copy", "cli-bak-2"}) {
      assertEquals(0, run("collections", "delete", "--target", target, "--name", name).code());
    }
  }

  @Test
  void unknownCollectionIsOneErrorLine() {
    assertCleanError(run("search", "--target", target, "--collection", "nope", "--vector", "1,2,3"),
        "NOT_FOUND");
    assertCleanError(run("collections", "get", "--target", target, "--name", "nope", "--json"),
        "NOT_FOUND");
    assertCleanError(run("search", "--target", target, "--collection", "nope"), "exactly one of");
  }
}
