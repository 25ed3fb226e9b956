package dev.codebook.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.TexmexFiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as a user meets it: real files, the real exit codes and messages. */
class MainTest {

  static final Path SAMPLE = Path.of("../samples/debian-minilm-5k.hdf5");

  record Run(int code, String out, String err) {}

  static synchronized Run run(String... args) {
    PrintStream oldOut = System.out, oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = Main.run(args);
      return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  /** One error line, naming the problem, and no stack trace. */
  static void assertCleanError(Run r, String expected) {
    assertEquals(1, r.code(), r.err());
    // Progress lines ("[bench] ...", "[backup] ...") may come before the error.
    String[] lines = r.err().strip().lines().filter(l -> !l.matches("\\[[a-z]+] .*"))
        .toArray(String[]::new);
    assertEquals(1, lines.length, "one error line, got:\n" + r.err());
    assertTrue(lines[0].startsWith("codebook: error: "), lines[0]);
    assertTrue(lines[0].contains(expected), lines[0]);
    assertFalse(r.err().contains("\tat "), "no stack trace:\n" + r.err());
  }

  @Test
  void benchOnTheSampleFindsTheExactNeighbours() {
    Run r = run("bench", "--data", SAMPLE.toString(), "--index", "Flat", "--threads", "1,2",
        "--min-time", "0.05", "--warmup", "0.1", "--min-passes", "3", "--no-single");
    assertEquals(0, r.code(), r.err());
    String[] lines = r.out().strip().split("\n");
    assertEquals(2, lines.length, r.out());
    for (String line : lines) {
      JsonObject o = JsonParser.parseString(line).getAsJsonObject();
      for (String field : new String[] {"system", "index", "params", "bytes_per_vector", "train_s",
          "add_s", "recall@1", "recall@10", "qps", "threads"}) {
        assertTrue(o.has(field), field + " missing in " + line);
      }
      assertEquals("codebook", o.get("system").getAsString());
      assertEquals(1.0, o.get("recall@10").getAsDouble());
      assertEquals(1.0, o.get("recall@1").getAsDouble());
      assertTrue(o.get("qps").getAsDouble() > 0);
      assertEquals(1536, o.get("bytes_per_vector").getAsInt());
    }
  }

  /**
   * {@code info} reports what this JVM runs: its version and home, the kernel provider the
   * tests were started with ({@code -Dcodebook.kernels}) and its vector width, the cores and the
   * heap, one line each.
   */
  @Test
  void infoPrintsTheJvmKernelsCoresAndHeapInUse() {
    Run r = run("info");
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    dev.codebook.index.simd.KernelSupport k = dev.codebook.index.simd.VectorKernels.support();
    String asked = System.getProperty("codebook.kernels", "auto");
    if (!asked.equals("auto")) {
      assertEquals(asked, k.name(), "the provider -Dcodebook.kernels named");
    }
    assertEquals(java.util.List.of(
        "java       " + Runtime.version() + " (" + System.getProperty("java.home") + ")",
        "kernels    " + k.name() + ", " + k.vectorBitSize() + "-bit vectors",
        "cores      " + Runtime.getRuntime().availableProcessors(),
        "max heap   " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB"),
        r.out().lines().toList());
  }

  @Test
  void wrongPath() {
    assertCleanError(run("bench", "--data", "/nonexistent/x.hdf5"), "/nonexistent/x.hdf5");
  }

  @Test
  void notAnHdf5File(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("notes.hdf5");
    Files.writeString(f, "these are not vectors\n".repeat(100));
    assertCleanError(run("bench", "--data", f.toString()), "not an HDF5 file");
  }

  @Test
  void truncatedFvecs(@TempDir Path dir) throws Exception {
    Path base = dir.resolve("base.fvecs"), query = dir.resolve("query.fvecs");
    TexmexFiles.writeFvecs(base, random(50, 8));
    TexmexFiles.writeFvecs(query, random(5, 8));
    byte[] bytes = Files.readAllBytes(base);
    Files.write(base, Arrays.copyOf(bytes, bytes.length - 7));
    assertCleanError(run("bench", "--train", base.toString(), "--test", query.toString()),
        "truncated");
  }

  @Test
  void dimensionMismatchBetweenTrainAndTest(@TempDir Path dir) throws Exception {
    Path base = dir.resolve("base.fvecs"), query = dir.resolve("query.fvecs");
    TexmexFiles.writeFvecs(base, random(50, 8));
    TexmexFiles.writeFvecs(query, random(5, 6));
    assertCleanError(run("bench", "--train", base.toString(), "--test", query.toString()),
        "vector dimensions differ: train has 8, test has 6");
  }

  /**
   * An approximate index on the sample, scored against the file's exact neighbours: recall@10
   * grows with nprobe and reaches floors a little under what it measures (0.41 at nprobe 1,
   * 0.58 at nprobe 16, all the lists), so a search (or a reading of the ground truth) that loses
   * neighbours fails.
   */
  @Test
  void benchOfIvfPqOnTheSampleReachesItsRecall() {
    Run r = run("bench", "--data", SAMPLE.toString(), "--index", "IVF16,PQ48x4fs", "--nprobe",
        "1,16", "--min-time", "0.05", "--no-single");
    assertEquals(0, r.code(), r.err());
    String[] lines = r.out().strip().split("\n");
    assertEquals(2, lines.length, r.out());
    double narrow = recallAt10(lines[0], "nprobe=1,rerank=1");
    double wide = recallAt10(lines[1], "nprobe=16,rerank=1");
    assertTrue(narrow >= 0.39, "nprobe 1: " + narrow);
    assertTrue(wide >= 0.56, "nprobe 16: " + wide);
    assertTrue(wide > narrow + 0.1, "more lists find more: " + narrow + " -> " + wide);
  }

  /** recall@10 of a bench JSON line, after checking its search parameters. */
  static double recallAt10(String line, String params) {
    JsonObject o = JsonParser.parseString(line).getAsJsonObject();
    assertEquals(params, o.get("params").getAsString(), line);
    return o.get("recall@10").getAsDouble();
  }

  /**
   * Without a truth file bench computes the exact neighbours with Flat: an approximate index is
   * scored against them, below 1 (the truth is not its own answers) and above a floor (it is the
   * exact top 10: IVF4,PQ8 at nprobe 4, every list, measures 0.896 on these random vectors).
   */
  @Test
  void fvecsWithoutTruthGetsItFromFlat(@TempDir Path dir) throws Exception {
    Path base = dir.resolve("base.fvecs"), query = dir.resolve("query.fvecs");
    TexmexFiles.writeFvecs(base, random(1000, 16));
    TexmexFiles.writeFvecs(query, random(50, 16));
    Run r = run("bench", "--train", base.toString(), "--test", query.toString(), "--index",
        "IVF4,PQ8", "--nprobe", "4", "--min-time", "0.01", "--warmup", "0", "--no-single");
    assertEquals(0, r.code(), r.err());
    double recall = recallAt10(r.out().strip(), "nprobe=4,rerank=1");
    assertTrue(recall >= 0.85 && recall < 1, "" + recall);
  }

  @Test
  void specTyposAndUsageErrors() {
    assertCleanError(run("bench", "--data", SAMPLE.toString(), "--index", "IVF256,PQ32x5"),
        "nbits must be 4 or 8");
    Run usage = run("bench", "--threads", "x");
    assertEquals(2, usage.code());
    assertFalse(usage.err().contains("\tat "));
  }

  @Test
  void helpListsEveryCommandWithAWholeSentenceOnOneLine() {
    for (String[] args : new String[][] {{"--help"}, {"collections", "--help"}, {"jobs", "--help"}}) {
      Run r = run(args);
      assertEquals(0, r.code(), r.err());
      String commands = r.out().substring(r.out().indexOf("Commands:\n") + "Commands:\n".length());
      java.util.List<String> lines = commands.lines().filter(l -> !l.isBlank()).toList();
      assertTrue(lines.size() >= 4, r.out());
      for (String line : lines) {
        // "  name   Summary." ; a wrapped summary continues on a line indented further
        java.util.regex.Matcher m =
            java.util.regex.Pattern.compile("^  (\\S+) +(\\S.*)$").matcher(line);
        assertTrue(m.matches(), "a summary cut or wrapped: '" + line + "' in\n" + r.out());
        String summary = m.group(2);
        assertTrue(summary.endsWith(".") && Character.isUpperCase(summary.charAt(0)),
            "not a whole sentence: '" + line + "' in\n" + r.out());
      }
    }
  }

  @Test
  void everyCommandsSummaryIsAWholeSentence() {
    java.util.ArrayDeque<picocli.CommandLine> todo = new java.util.ArrayDeque<>();
    todo.add(new picocli.CommandLine(new Main()));
    int seen = 0;
    while (!todo.isEmpty()) {
      picocli.CommandLine cl = todo.poll();
      todo.addAll(cl.getSubcommands().values());
      picocli.CommandLine.Model.UsageMessageSpec u = cl.getCommandSpec().usageMessage();
      String summary = u.header().length > 0 ? u.header()[0]
          : u.description().length > 0 ? u.description()[0] : "";
      String name = cl.getCommandSpec().qualifiedName();
      assertTrue(summary.endsWith(".") && summary.length() <= 65,
          name + ": the summary --help lists should be one short sentence: '" + summary + "'");
      seen++;
    }
    assertTrue(seen > 15, "" + seen);
  }

  /** Every command, by qualified name ("codebook collections create"). */
  static java.util.Map<String, picocli.CommandLine.Model.CommandSpec> commands() {
    java.util.Map<String, picocli.CommandLine.Model.CommandSpec> all = new java.util.TreeMap<>();
    java.util.ArrayDeque<picocli.CommandLine> todo = new java.util.ArrayDeque<>();
    todo.add(new picocli.CommandLine(new Main()));
    while (!todo.isEmpty()) {
      picocli.CommandLine cl = todo.poll();
      todo.addAll(cl.getSubcommands().values());
      all.put(cl.getCommandSpec().qualifiedName(), cl.getCommandSpec());
    }
    return all;
  }

  @Test
  void anOptionSeveralCommandsShareHasOneDefault() {
    // --retries differs on purpose: client commands retry, a load test counts every failure.
    for (String name : new String[] {"--metric", "--seed", "--k", "--index", "--target",
        "--timeout", "--id-prefix", "--max-train"}) {
      java.util.Map<String, String> defaults = new java.util.TreeMap<>();
      for (var e : commands().entrySet()) {
        picocli.CommandLine.Model.OptionSpec o = e.getValue().findOption(name);
        if (o != null && o.defaultValue() != null) {
          defaults.put(e.getKey(), o.defaultValue());
        }
      }
      assertTrue(defaults.size() >= 2, name + ": " + defaults);
      assertEquals(1, new java.util.HashSet<>(defaults.values()).size(),
          name + " has different defaults: " + defaults);
    }
    var all = commands();
    for (String cmd : new String[] {"codebook bench", "codebook build", "codebook loadtest"}) {
      assertEquals("1234", all.get(cmd).findOption("--seed").defaultValue(), cmd);
    }
    for (String cmd : new String[] {"codebook bench", "codebook build", "codebook ingest",
        "codebook collections create"}) {
      assertEquals("cosine", all.get(cmd).findOption("--metric").defaultValue(), cmd);
    }
  }

  @Test
  void theSameThingHasTheSameNameInEveryCommand() {
    var all = commands();
    // the collection a command works on
    for (String cmd : new String[] {"codebook search", "codebook ingest", "codebook build",
        "codebook loadtest", "codebook jobs list", "codebook collections create",
        "codebook collections get", "codebook collections delete", "codebook collections backup",
        "codebook collections restore"}) {
      assertTrue(all.get(cmd).findOption("--collection") != null, cmd + " --collection");
    }
    // how to reach the server: every command that calls one
    for (var e : all.entrySet()) {
      if (e.getValue().findOption("--target") != null) {
        for (String o : new String[] {"--api-key", "--timeout", "--retries", "--tls", "--tls-ca"}) {
          assertTrue(e.getValue().findOption(o) != null, e.getKey() + " " + o);
        }
      }
    }
    // search parameters
    for (String cmd : new String[] {"codebook search", "codebook bench", "codebook loadtest"}) {
      for (String o : new String[] {"--k", "--nprobe", "--rerank"}) {
        assertTrue(all.get(cmd).findOption(o) != null, cmd + " " + o);
      }
    }
    assertTrue(all.get("codebook build").findOption("--max-wait") != null);
    // old names scripts use still work
    assertTrue(all.get("codebook collections get").findOption("--name") != null);
    assertTrue(all.get("codebook build").findOption("--build-timeout") != null);
  }

  @Test
  void badValuesNameTheirOption() {
    for (String[] args : new String[][] {
        {"search", "--collection", "c", "--vector", "1,2", "--k", "0"},
        {"bench", "--k", "0"},
        {"loadtest", "--collection", "c", "--data", SAMPLE.toString(), "--k", "-1"}}) {
      Run r = run(args);
      assertEquals(2, r.code(), r.err());
      assertTrue(r.err().startsWith("codebook: error: --k must be positive, got"), r.err());
    }
    for (String[] args : new String[][] {{"bench", "--metric", "cosin"},
        {"ingest", "--collection", "c", "--data", "x", "--metric", "cosin"},
        {"collections", "create", "--collection", "c", "--dimension", "3", "--metric", "cosin"}}) {
      Run r = run(args);
      assertEquals(2, r.code(), r.err());
      assertTrue(r.err().contains("'--metric': unknown metric 'cosin'"), r.err());
    }
    assertCleanError(run("search", "--collection", "c", "--vector", "1,2", "--nprobe", "0"),
        "--nprobe must be positive");
  }

  private static FloatMatrix random(int rows, int dim) {
    Random r = new Random(rows * 31L + dim);
    FloatMatrix m = FloatMatrix.allocate(rows, dim);
    for (int i = 0; i < m.data().length; i++) {
      m.data()[i] = (float) r.nextGaussian();
    }
    return m;
  }
}
