package dev.codebook.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.api.v1.Metric;
import dev.codebook.client.CodebookClient;
import dev.codebook.client.VectorRecord;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One process per data directory, with real processes: a second {@code serve}, or an offline
 * {@code build --out}, started on a data directory a live server holds is refused with a message
 * naming the holder, and touches nothing: every write the live server acknowledged, before and
 * after, survives its SIGKILL.
 */
class OneProcessPerDataDirTest {

  private static final Pattern LISTENING = Pattern.compile("serving codebook\\.v1 on [^:]+:(\\d+)");

  @TempDir Path tmp;
  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void killAll() {
    started.forEach(Process::destroyForcibly);
  }

  /** {@code codebook ARGS} in a new JVM on the test's class path, stderr into stdout. */
  private Process codebook(String... args) throws IOException {
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:TieredStopAtLevel=1",
        "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
        Main.class.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    started.add(p);
    return p;
  }

  /** Starts {@code serve} on a free port and returns its port once it says it is ready. */
  private int serve(Path data, Process[] out) throws IOException {
    Process p = codebook("serve", "--port", "0", "--no-sample", "--data-dir", data.toString(),
        "--durability", "fsync");
    out[0] = p;
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
        StandardCharsets.UTF_8));
    int port = -1;
    StringBuilder seen = new StringBuilder();
    for (String line; (line = r.readLine()) != null; ) {
      seen.append(line).append('\n');
      Matcher m = LISTENING.matcher(line);
      if (m.find()) {
        port = Integer.parseInt(m.group(1));
      }
      if (line.contains("codebook: ready")) {
        // Keep draining its output so that the server never blocks on a full pipe.
        Thread.ofVirtual().start(() -> r.lines().forEach(l -> { }));
        return port;
      }
    }
    throw new AssertionError("server exited before it was ready:\n" + seen);
  }

  /** Runs {@code codebook ARGS} to its end: exit code and output. */
  private MainTest.Run finish(String... args) throws Exception {
    Process p = codebook(args);
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "did not finish: " + String.join(" ", args));
    return new MainTest.Run(p.exitValue(), text, text);
  }

  private static List<VectorRecord> vectors(String prefix, int n, long seed) {
    Random rnd = new Random(seed);
    List<VectorRecord> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] v = new float[16];
      for (int j = 0; j < v.length; j++) {
        v[j] = rnd.nextFloat() - 0.5f;
      }
      out.add(VectorRecord.of(prefix + i, v));
    }
    return out;
  }

  private static Set<String> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return new TreeSet<>(s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString())
          .filter(n -> !n.endsWith("write.lock.holder")).toList());
    }
  }

  @Test
  void aSecondServeAndAnOfflineBuildAreRefusedAndNoAcknowledgedWriteIsLost() throws Exception {
    Path data = tmp.resolve("data");
    Process[] first = new Process[1];
    int port = serve(data, first);
    try (CodebookClient c = CodebookClient.builder().target("127.0.0.1:" + port).build()) {
      c.createCollection("docs", 16, Metric.EUCLIDEAN, "Flat");
      c.upsert("collections/docs", vectors("a", 50, 1));
    }
    Set<String> before = files(data);

    MainTest.Run second = finish("serve", "--port", "0", "--no-sample", "--data-dir",
        data.toString());
    assertNotEquals(0, second.code(), "a second server started on a live data directory:\n"
        + second.out());
    assertTrue(second.out().contains("data directory " + data + " is in use by another process")
        && second.out().contains("pid " + first[0].pid()), second.out());

    Path sample = MainTest.SAMPLE;
    MainTest.Run offline = finish("build", "--data", sample.toString(), "--index", "Flat",
        "--limit", "100", "--out", data.resolve("collections").resolve("offline").toString());
    assertNotEquals(0, offline.code(), "an offline build wrote into a live data directory:\n"
        + offline.out());
    assertTrue(offline.out().contains("is in use by another process")
        && offline.out().contains("pid " + first[0].pid()), offline.out());
    assertEquals(before, files(data), "the refused processes changed the live data directory");

    // The live server goes on acknowledging writes into files that still exist.
    try (CodebookClient c = CodebookClient.builder().target("127.0.0.1:" + port).build()) {
      c.upsert("collections/docs", vectors("b", 50, 2));
    }
    first[0].destroyForcibly().waitFor();

    Process[] again = new Process[1];
    int port2 = serve(data, again);
    try (CodebookClient c = CodebookClient.builder().target("127.0.0.1:" + port2).build()) {
      assertEquals(100, c.getCollection("collections/docs").getVectorCount(),
          "acknowledged writes lost after SIGKILL");
    }
  }
}
