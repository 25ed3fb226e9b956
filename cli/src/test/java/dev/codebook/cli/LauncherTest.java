package dev.codebook.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/codebook} itself, run as a user runs it (on the classes this build compiled, with
 * the JDK running the tests): the JVM it starts prints no {@code WARNING:} lines, except the
 * incubator-module notice of the commands that use the Vector API, which no JVM option turns
 * off (see bin/lib/java-opts.sh).
 */
class LauncherTest {

  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final String INCUBATOR_NOTICE = "WARNING: Using incubator modules: jdk.incubator.vector";

  record Result(int code, String out) {}

  static ProcessBuilder launcher(String... args) {
    List<String> command = new ArrayList<>();
    command.add(ROOT.resolve("bin/codebook").toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("CODEBOOK_SKIP_BUILD", "1");
    pb.environment().put("CODEBOOK_CLASSPATH", mainClassPath());
    pb.environment().remove("CODEBOOK_JAVA_OPTS");
    return pb;
  }

  /** This build's classes and dependencies, without the tests' (their logging set-up differs). */
  static String mainClassPath() {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    return java.util.Arrays.stream(cp.split(java.io.File.pathSeparator))
        .filter(e -> !e.endsWith("test-classes") && !e.endsWith("test-classes/"))
        .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
  }

  static Result run(String... args) throws IOException, InterruptedException {
    Process p = launcher(args).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bin/codebook " + String.join(" ", args));
    return new Result(p.exitValue(), out);
  }

  /** The lines starting with WARNING:, but the incubator notice when {@code incubatorOk}. */
  static List<String> warnings(String output, boolean incubatorOk) {
    return output.lines().filter(l -> l.startsWith("WARNING:"))
        .filter(l -> !(incubatorOk && l.equals(INCUBATOR_NOTICE))).toList();
  }

  @Test
  void helpPrintsNoJvmWarnings() throws Exception {
    for (String[] args : new String[][] {{"--help"}, {"search", "--help"}, {"help", "serve"},
        {"serve", "--help"}, {"bench", "-h"}, {"--version"}}) {
      Result r = run(args);
      assertEquals(0, r.code(), r.out());
      assertEquals(List.of(), warnings(r.out(), false), String.join(" ", args) + ":\n" + r.out());
    }
  }

  @Test
  void infoRunsThePanamaKernelsWithNoOtherWarning() throws Exception {
    Result r = run("info");
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("kernels    panama"), r.out());
    assertEquals(List.of(), warnings(r.out(), true), r.out());
  }

  /** Waits for {@code serve}'s ready line in {@code log}; returns its {@code host:port}. */
  static String awaitReady(Process server, Path log) throws Exception {
    Pattern serving = Pattern.compile("serving codebook\\.v1 on (\\S+:\\d+)");
    for (int i = 0; i < 600; i++) {
      String text = Files.exists(log) ? Files.readString(log) : "";
      Matcher m = serving.matcher(text);
      if (m.find() && text.contains("ready")) {
        return m.group(1);
      }
      assertTrue(server.isAlive(), "serve exited:\n" + text);
      Thread.sleep(100);
    }
    throw new AssertionError("serve did not start:\n" + Files.readString(log));
  }

  /** SIGTERM, then the server's whole output. */
  static String stop(Process server, Path log) throws Exception {
    server.destroy(); // SIGTERM: a graceful stop
    if (!server.waitFor(30, TimeUnit.SECONDS)) {
      server.destroyForcibly();
    }
    return Files.readString(log);
  }

  /**
   * A request over the size limit is refused by grpc-java, which logs it through
   * java.util.logging with its exception: in the server's log that is one line in the log's own
   * format, not a stack trace in another.
   */
  @Test
  void anOversizedRequestIsOneLineInTheServersLogFormat(@TempDir Path dir) throws Exception {
    Path config = Files.writeString(dir.resolve("small.yaml"), "max-inbound-message-bytes: 100000\n");
    Path log = dir.resolve("serve.log");
    Process server = launcher("serve", "--config", config.toString(), "--port", "0",
        "--no-sample", "--data-dir", dir.resolve("data").toString())
        .redirectOutput(log.toFile()).start();
    String out;
    try {
      String target = awaitReady(server, log);
      assertEquals(0, run("collections", "create", "--target", target, "--name", "w",
          "--dimension", "3").code());
      Result big = run("search", "--target", target, "--collection", "w", "--vector",
          "1" + ",0".repeat(30_000));
      assertEquals(1, big.code(), big.out());
      assertTrue(big.out().contains("RESOURCE_EXHAUSTED"), big.out());
    } finally {
      out = stop(server, log);
    }
    List<String> refused = out.lines().filter(l -> l.contains("exceeds maximum size")).toList();
    assertEquals(1, refused.size(), out);
    assertTrue(refused.get(0).matches("\\d\\d:\\d\\d:\\d\\d WARN \\S+ - .*RESOURCE_EXHAUSTED.*"),
        refused.get(0));
    for (String line : out.lines().toList()) {
      assertTrue(line.matches("\\d\\d:\\d\\d:\\d\\d [A-Z]+ \\S+ - .*") || line.startsWith("codebook: ")
          || line.equals(INCUBATOR_NOTICE), "a line outside the log's format:\n" + line
          + "\n\nin\n" + out);
    }
  }

  @Test
  void serverAndClientCommandsPrintNoUnsafeWarnings(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("serve.log");
    Process server = launcher("serve", "--port", "0", "--no-sample", "--data-dir",
        dir.resolve("data").toString()).redirectOutput(log.toFile()).start();
    try {
      String target = awaitReady(server, log);
      // Calls that (de)serialize protobuf messages on both sides: protobuf's sun.misc.Unsafe
      // use is what JDK 24+ warns about.
      Result create = run("collections", "create", "--target", target, "--name", "w",
          "--dimension", "3");
      assertEquals(0, create.code(), create.out());
      Result search = run("search", "--target", target, "--collection", "w", "--vector",
          "1,0,0", "--json");
      assertEquals(0, search.code(), search.out());
      Result list = run("collections", "list", "--target", target);
      assertEquals(0, list.code(), list.out());
      for (Result r : List.of(create, search, list)) {
        assertEquals(List.of(), warnings(r.out(), false), r.out());
      }
    } finally {
      stop(server, log);
    }
    String out = Files.readString(log);
    assertTrue(out.contains("stopped"), out);
    assertEquals(List.of(), warnings(out, true), out);
  }
}
