package dev.codebook.cli;

import static dev.codebook.cli.MainTest.SAMPLE;
import static dev.codebook.cli.MainTest.assertCleanError;
import static dev.codebook.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.codebook.server.CodebookServer;
import dev.codebook.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code codebook loadtest} as scripts call it, against the real server on a free port: the
 * command-line contract of issue #4 (`--load ... --json`, last line a summary).
 */
class LoadTestCommandTest {

  static CodebookServer server;
  static String target;
  static MainTest.Run loaded;

  @BeforeAll
  static void start() {
    try {
      server = CodebookServer.start(
          ServerConfig.defaults().withPort(0).withShutdownGrace(Duration.ofSeconds(5)));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    target = "127.0.0.1:" + server.port();
    loaded = run("loadtest", "--target", target, "--data", SAMPLE.toString(), "--collection",
        "lt", "--index", "IVF16,PQ48x4fs,RFlat", "--load", "--id-prefix", "r-", "--search",
        "nprobe=4,rerank=2", "--concurrency", "2", "--warmup", "0.2", "--jit-warmup", "0",
        "--duration", "1.2", "--json");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static JsonObject lastLine(MainTest.Run r) {
    List<String> lines = r.out().strip().lines().toList();
    return JsonParser.parseString(lines.get(lines.size() - 1)).getAsJsonObject();
  }

  @Test
  void loadThenClosedLoopPrintsTheSummary() {
    assertEquals(0, loaded.code(), loaded.err());
    JsonObject s = lastLine(loaded);
    for (String f : new String[] {"qps", "recall@10", "recall@1", "errors", "p50_ms", "p90_ms",
        "p99_ms", "p999_ms", "max_ms", "concurrency", "duration_s", "requests"}) {
      assertTrue(s.has(f) && !s.get(f).isJsonNull(), f + " missing in " + s + "\n" + loaded.err());
    }
    assertEquals("closed", s.get("mode").getAsString());
    assertEquals(2, s.get("concurrency").getAsInt());
    assertEquals(0, s.getAsJsonObject("errors").size(), "no errors: " + s);
    assertTrue(s.get("qps").getAsDouble() > 0);
    double p50 = s.get("p50_ms").getAsDouble(), p99 = s.get("p99_ms").getAsDouble();
    assertTrue(0 < p50 && p50 <= p99 && p99 <= s.get("p999_ms").getAsDouble(), s.toString());
    // the level scores the queries it sent (all 200 once it runs long enough), none failed
    int scored = s.get("recall_queries").getAsInt();
    assertTrue(scored >= 1 && scored <= 200, "" + scored);
    assertEquals(0, s.get("recall_failed_queries").getAsInt());
    assertEquals("IVF16,PQ48x4fs,RFlat", s.get("index").getAsString());
    assertEquals(5000, s.get("n").getAsLong());
    // progress: loading, then one line a second with QPS, p99 and errors
    assertTrue(loaded.err().contains("[loadtest] built IVF16,PQ48x4fs,RFlat"), loaded.err());
    assertTrue(loaded.err().lines().anyMatch(l -> l.matches(
        "\\[loadtest\\] c=2 +[0-9]+\\.[0-9] s +[0-9,]+ QPS +p99 +[0-9.]+ ms +errors 0")), loaded.err());
  }

  /**
   * A sweep over nprobe, after a JIT warm-up at the first setting: one line per level, each with
   * the recall of its own answers, which is what {@code search --queries 200} measures at its
   * nprobe; the two differ. Each level sends 200 calls of one query, every test query once.
   */
  @Test
  void aSweepOverNprobeReportsEachLevelsOwnRecall() {
    MainTest.Run r = run("loadtest", "--target", target, "--data", SAMPLE.toString(),
        "--collection", "lt", "--id-prefix", "r-", "--nprobe", "1,16", "--rerank", "2",
        "--concurrency", "2", "--warmup", "0.1", "--jit-warmup", "0.2", "--duration", "60",
        "--max-requests", "200", "--json");
    assertEquals(0, r.code(), r.err());
    List<JsonObject> lines = r.out().strip().lines()
        .map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
    assertEquals(2, lines.size(), r.out());
    double[] expected = new double[2];
    for (int i = 0; i < 2; i++) {
      String nprobe = i == 0 ? "1" : "16";
      JsonObject level = lines.get(i);
      assertEquals("nprobe=" + nprobe + ",rerank=2", level.get("params").getAsString());
      assertEquals(200, level.get("recall_queries").getAsInt(), level.toString());
      MainTest.Run search = run("search", "--target", target, "--collection", "lt", "--data",
          SAMPLE.toString(), "--queries", "200", "--id-prefix", "r-", "--nprobe", nprobe,
          "--rerank", "2", "--json");
      assertEquals(0, search.code(), search.err());
      expected[i] = JsonParser.parseString(search.out().strip()).getAsJsonObject()
          .get("recall@10").getAsDouble();
      assertEquals(expected[i], level.get("recall@10").getAsDouble(), 1e-4, "nprobe " + nprobe);
    }
    assertTrue(expected[1] > expected[0] + 0.05, "nprobe 16 finds more: " + expected[1] + " vs "
        + expected[0]);
    assertTrue(r.err().contains("[loadtest] nprobe=16,rerank=2 c=2 done:"), r.err());
  }

  @Test
  void openLoopAtAFixedRateSendsRateTimesDurationCalls() {
    MainTest.Run r = run("loadtest", "--target", target, "--data", SAMPLE.toString(),
        "--collection", "lt", "--id-prefix", "r-", "--search", "nprobe=4", "--rate", "200",
        "--warmup", "0", "--jit-warmup", "0", "--duration", "0.5", "--json");
    assertEquals(0, r.code(), r.err());
    JsonObject s = lastLine(r);
    assertEquals("open", s.get("mode").getAsString());
    assertEquals(200, s.get("rate").getAsInt());
    assertEquals(100, s.get("requests").getAsLong());
    assertEquals(0, s.get("errors_total").getAsLong());
    assertTrue(s.has("service_p99_ms") && s.has("p999_ms"), s.toString());
  }

  @Test
  void aSweepWritesOneJsonLinePerLevelAndAChart(@TempDir Path dir) throws Exception {
    Path jsonl = dir.resolve("sweep.jsonl"), html = dir.resolve("sweep.html");
    MainTest.Run r = run("loadtest", "--target", target, "--data", SAMPLE.toString(),
        "--collection", "lt", "--id-prefix", "r-", "--concurrency", "1,3", "--warmup", "0",
        "--jit-warmup", "0", "--duration", "0.4", "--batch", "5", "--out", jsonl.toString(), "--report",
        html.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("c=3"), "a table without --json: " + r.out());
    List<String> lines = Files.readAllLines(jsonl);
    assertEquals(2, lines.size());
    assertEquals(1, JsonParser.parseString(lines.get(0)).getAsJsonObject().get("concurrency").getAsInt());
    JsonObject c3 = JsonParser.parseString(lines.get(1)).getAsJsonObject();
    assertEquals(3, c3.get("concurrency").getAsInt());
    assertEquals(5, c3.get("batch").getAsInt());
    assertEquals(5 * c3.get("requests").getAsLong(), c3.get("queries").getAsLong());
    String page = Files.readString(html);
    assertTrue(page.contains("<svg") && page.contains("c=3"), page);
    assertTrue(r.err().contains("wrote " + html), r.err());
  }

  @Test
  void idsWithoutTheirPrefixGiveNoRecallAndSaySo() {
    MainTest.Run r = run("loadtest", "--target", target, "--data", SAMPLE.toString(),
        "--collection", "lt", "--concurrency", "1", "--warmup", "0", "--jit-warmup", "0",
        "--duration", "0.3", "--json");
    assertEquals(0, r.code(), r.err());
    JsonObject s = lastLine(r);
    assertTrue(s.get("recall@10").isJsonNull() && s.get("recall@1").isJsonNull(), s.toString());
    assertTrue(r.err().contains("[loadtest] warning: no recall: none of the")
        && r.err().contains("add --id-prefix r-"), r.err());
  }

  @Test
  void badArgumentsAreOneErrorLine() {
    String[] base = {"loadtest", "--target", target, "--data", SAMPLE.toString(), "--collection", "lt"};
    assertCleanError(run(concat(base, "--concurrency", "0")), "--concurrency must be positive");
    assertCleanError(run(concat(base, "--concurrency", "2", "--rate", "100")), "not both");
    assertCleanError(run(concat(base, "--rate", "-5")), "--rate must be positive");
    assertCleanError(run(concat(base, "--duration", "0")), "--duration must be positive");
    assertCleanError(run(concat(base, "--search", "nprobes=4")), "unknown search parameter");
    assertCleanError(run("loadtest", "--target", "192.0.2.7:7300", "--data", SAMPLE.toString(),
        "--collection", "lt"), "--allow-remote");
    assertCleanError(run("loadtest", "--target", "nonsense", "--data", SAMPLE.toString(),
        "--collection", "lt"), "not HOST:PORT");
    assertCleanError(run("loadtest", "--target", target, "--data", SAMPLE.toString(),
        "--collection", "nope"), "NOT_FOUND");
    assertCleanError(run(concat(base, "--load", "--index", "IVF16,PQ48x4fs,RFlat")), "--replace");
    assertCleanError(run(concat(base, "--load", "--index", "IVF16,PQ47")), "");

    MainTest.Run usage = run(concat(base, "--concurrency", "x"));
    assertEquals(2, usage.code());
    List<String> lines = usage.err().strip().lines().toList();
    assertEquals(1, lines.size(), usage.err());
    assertTrue(lines.get(0).startsWith("codebook: error: ") && lines.get(0).contains("--concurrency")
        && lines.get(0).contains("codebook loadtest --help"), lines.get(0));
    assertFalse(usage.err().contains("\tat "));
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
