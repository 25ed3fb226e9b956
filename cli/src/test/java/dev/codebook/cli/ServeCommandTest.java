package dev.codebook.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.StreamVectorsRequest;
import dev.codebook.api.v1.StreamVectorsResponse;
import dev.codebook.api.v1.Vector;
import dev.codebook.api.v1.VectorServiceGrpc;
import dev.codebook.client.CodebookClient;
import dev.codebook.client.CodebookException;
import dev.codebook.client.SearchHit;
import dev.codebook.client.SearchOptions;
import dev.codebook.index.vector.AnnBenchmarksHdf5;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code codebook serve} as a process of its own, stopped by a real SIGTERM: it loads the bundled
 * sample, reads its configuration file (flags over it), drains the calls in flight when told to
 * stop, and serves a collection directory an offline {@code build --out} wrote.
 */
class ServeCommandTest {

  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path SAMPLE = ROOT.resolve("samples/debian-minilm-5k.hdf5");
  static final Pattern SERVING = Pattern.compile("serving codebook\\.v1 on (\\S+:\\d+)");

  @TempDir Path tmp;
  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void killAll() {
    started.forEach(Process::destroyForcibly);
  }

  /** A running {@code serve}: its process, address and everything it printed so far. */
  record Serve(Process process, String target, StringBuffer output) {}

  /**
   * Starts {@code codebook serve ARGS} in a new JVM on this build's classes (not the tests',
   * whose logging goes to a file), with the scalar kernels and C1 (the quickest start; the Vector
   * API is no part of what is tested here), and waits until it says it is ready.
   */
  Serve serve(String... args) throws IOException {
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:TieredStopAtLevel=1",
        "-Dcodebook.kernels=scalar", "-Dcodebook.home=" + ROOT, "-cp",
        LauncherTest.mainClassPath(), Main.class.getName(), "serve", "--warmup-ms", "0"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).start();
    started.add(p);
    StringBuffer output = new StringBuffer();
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
        StandardCharsets.UTF_8));
    String target = null;
    for (String line; (line = r.readLine()) != null; ) {
      output.append(line).append('\n');
      Matcher m = SERVING.matcher(line);
      if (m.find()) {
        target = m.group(1);
      }
      if (line.startsWith("codebook: ready")) {
        // Keep reading, so that the server never blocks on a full pipe and the test sees the end.
        Thread.ofVirtual().start(() -> {
          try {
            for (String l; (l = r.readLine()) != null; ) {
              output.append(l).append('\n');
            }
          } catch (IOException killed) {
            // the test is over and killed the process
          }
        });
        return new Serve(p, target, output);
      }
    }
    throw new AssertionError("serve exited before it was ready:\n" + output);
  }

  static CodebookClient client(Serve s) {
    return CodebookClient.builder().target(s.target()).maxRetries(0)
        .deadline(Duration.ofSeconds(30)).build();
  }

  /**
   * Sends SIGTERM, through the process handle: {@link Process#destroy} sends the same signal but
   * also closes our end of the process's output, and the last lines would be lost.
   */
  static void sigterm(Serve s) {
    assertTrue(s.process().toHandle().destroy(), "SIGTERM not sent");
  }

  /** SIGTERM, then the end of the process and of its output. */
  static String stop(Serve s) throws Exception {
    sigterm(s);
    assertTrue(s.process().waitFor(60, TimeUnit.SECONDS), "serve did not stop:\n" + s.output());
    for (int i = 0; i < 100 && !s.output().toString().contains("stopped"); i++) {
      Thread.sleep(20); // the reader thread's last lines
    }
    return s.output().toString();
  }

  /** recall@10 that {@code search --queries 200} prints for the sample's test queries. */
  static double recall(Serve s, String collection, String... options) {
    List<String> args = new ArrayList<>(List.of("search", "--target", s.target(), "--collection",
        collection, "--data", SAMPLE.toString(), "--queries", "200", "--json"));
    args.addAll(List.of(options));
    MainTest.Run r = MainTest.run(args.toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    return JsonParser.parseString(r.out().strip()).getAsJsonObject().get("recall@10")
        .getAsDouble();
  }

  static StreamVectorsRequest batch(String collection, int from, int n) {
    StreamVectorsRequest.Builder b = StreamVectorsRequest.newBuilder();
    if (collection != null) {
      b.setCollection(collection);
    }
    for (int i = from; i < from + n; i++) {
      b.addVectors(Vector.newBuilder().setId("v" + i).addValues(i).addValues(1).addValues(-i));
    }
    return b.build();
  }

  /**
   * The sample, a configuration file, and SIGTERM: {@code serve --config FILE} loads the bundled
   * sample into {@code debian-minilm-5k} (ids are package names, descriptions are attributes),
   * takes its settings from the file (data directory relative to the file) and flags over them.
   * On SIGTERM it refuses new calls but lets a stream in flight go on to its end: a batch sent
   * after the signal is acknowledged and survives, and the server stops without cutting calls
   * off. Started again, it reopens the sample rather than loading it anew.
   */
  @Test
  void serveLoadsTheSampleReadsItsConfigFileAndDrainsCallsInFlightOnSigterm() throws Exception {
    Path conf = Files.createDirectories(tmp.resolve("conf")).resolve("codebook.yaml");
    Files.writeString(conf, String.join("\n",
        "port: 0",
        "data-dir: data            # beside this file",
        "search-threads: 1",
        "search-queue: 7",
        "search-batch: 4           # --search-batch overrides it",
        "shutdown-grace-seconds: 20",
        ""));
    Serve s = serve("--config", conf.toString(), "--search-batch", "2");
    String started = s.output().toString();
    assertTrue(started.contains("1 search threads, queue 7, merged batches of up to 2 queries"),
        "the file's settings, the flag over its search-batch:\n" + started);
    assertTrue(started.contains("codebook: loaded collections/debian-minilm-5k: 5000 vectors of"
        + " 384, IVF64,PQ48x4fs,RFlat built"), started);
    assertTrue(Files.isDirectory(tmp.resolve("conf/data/collections/debian-minilm-5k")),
        "data-dir is relative to the file");

    try (CodebookClient c = client(s)) {
      Collection sample = c.getCollection("debian-minilm-5k");
      assertEquals(Collection.State.READY, sample.getState());
      assertEquals(5000, sample.getVectorCount());
      assertEquals("IVF64,PQ48x4fs,RFlat", sample.getIndexSpec());
      float[] q = AnnBenchmarksHdf5.readVectors(SAMPLE, "test").row(0);
      SearchHit top = c.search("debian-minilm-5k", q,
          SearchOptions.topK(1).withNprobe(64).withRerank(20).withAttributes(true)).get(0);
      assertFalse(top.id().matches("[0-9]+"), "a package name, not a row number: " + top.id());
      assertFalse(String.valueOf(top.attributes().get("description")).isBlank(), top.toString());
      c.createCollection("drain", 3, Metric.EUCLIDEAN, "Flat");
    }
    // Against the file's exact neighbours, names read back as rows: 0.9915 measured.
    double recall = recall(s, "debian-minilm-5k", "--nprobe", "64", "--rerank", "20");
    assertTrue(recall >= 0.97, "recall@10 of the sample at nprobe 64, rerank 20: " + recall);

    ManagedChannel channel = Grpc.newChannelBuilder(s.target(), InsecureChannelCredentials.create())
        .build();
    try (CodebookClient probe = client(s)) {
      BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
      StreamObserver<StreamVectorsRequest> stream = VectorServiceGrpc.newStub(channel)
          .streamVectors(new StreamObserver<>() {
            @Override
            public void onNext(StreamVectorsResponse ack) {
              answers.add(ack);
            }

            @Override
            public void onError(Throwable t) {
              answers.add(t);
            }

            @Override
            public void onCompleted() {
              answers.add("completed");
            }
          });
      stream.onNext(batch("collections/drain", 0, 50));
      assertEquals(50, ((StreamVectorsResponse) answers.poll(30, TimeUnit.SECONDS))
          .getAcknowledged());

      sigterm(s);
      // Draining: a new call is refused at once.
      Status.Code refused = null;
      for (int i = 0; i < 300 && refused == null; i++) {
        try {
          probe.getCollection("drain");
          Thread.sleep(50);
        } catch (CodebookException e) {
          refused = e.code();
        }
      }
      assertEquals(Status.Code.UNAVAILABLE, refused, "new calls while draining");

      // The stream that was in flight goes on.
      stream.onNext(batch(null, 50, 50));
      Object second = answers.poll(30, TimeUnit.SECONDS);
      assertTrue(second instanceof StreamVectorsResponse, "a batch sent while draining: " + second);
      assertEquals(100, ((StreamVectorsResponse) second).getVectorCount());
      stream.onCompleted();
      assertEquals("completed", answers.poll(30, TimeUnit.SECONDS));
    } finally {
      channel.shutdownNow();
    }
    String out = stop(s);
    assertTrue(out.contains("shutting down: draining calls for up to 20 s"), out);
    assertTrue(out.contains("stopped"), out);
    assertFalse(out.contains("calls still running"), "the drain cut calls off:\n" + out);

    Serve again = serve("--config", conf.toString());
    assertFalse(again.output().toString().contains("loaded collections/debian-minilm-5k"),
        "the sample is reopened, not loaded again:\n" + again.output());
    try (CodebookClient c = client(again)) {
      assertEquals(100, c.getCollection("drain").getVectorCount(),
          "the batch acknowledged while draining");
      assertEquals(5000, c.getCollection("debian-minilm-5k").getVectorCount());
    }
    stop(again);
  }

  /**
   * {@code build --out DATA/collections/NAME} writes a collection directory offline that {@code
   * serve --data-dir DATA} then serves as built: every vector under its id, the index ready, and
   * the recall of the same spec built by a server (0.87 at nprobe 16, rerank 4).
   */
  @Test
  void anOfflineBuildIsServedAsBuilt() throws Exception {
    Path data = tmp.resolve("data");
    Files.createDirectories(data.resolve("collections"));
    MainTest.Run built = MainTest.run("build", "--data", SAMPLE.toString(), "--index",
        "IVF16,PQ48x4fs,RFlat", "--out", data.resolve("collections/offline").toString(),
        "--id-prefix", "d-", "--json");
    assertEquals(0, built.code(), built.err());
    JsonObject b = JsonParser.parseString(built.out().strip()).getAsJsonObject();
    assertEquals(5000, b.get("vector_count").getAsLong());

    Serve s = serve("--no-sample", "--data-dir", data.toString(), "--port", "0");
    assertTrue(s.output().toString().contains("1 collections opened"), s.output().toString());
    try (CodebookClient c = client(s)) {
      Collection offline = c.getCollection("offline");
      assertEquals(Collection.State.READY, offline.getState());
      assertEquals(5000, offline.getVectorCount());
      assertEquals("IVF16,PQ48x4fs,RFlat", offline.getIndexSpec());
      float[] row7 = AnnBenchmarksHdf5.readVectors(SAMPLE, "train").row(7);
      assertTrue(java.util.Arrays.equals(row7,
          c.get("offline", List.of("d-7")).get(0).values()), "the values under their ids");
    }
    double recall = recall(s, "offline", "--id-prefix", "d-", "--nprobe", "16", "--rerank", "4");
    assertTrue(recall >= 0.85, "recall@10 at nprobe 16, rerank 4: " + recall);
    stop(s);
  }
}
