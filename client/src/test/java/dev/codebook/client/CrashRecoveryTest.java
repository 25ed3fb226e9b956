package dev.codebook.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.codebook.api.v1.Metric;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.AnnBenchmarksHdf5;
import dev.codebook.index.vector.FloatMatrix;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash recovery under load: a child server process (the same java and class path) is killed
 * with SIGKILL at a random moment while two clients write through the real client (new ids,
 * overwrites of their own ids with new values and attributes, deletes), then restarted on the
 * same data directory. After every restart each id holds the values and attributes of its last
 * acknowledged upsert, each acknowledged delete is gone, every request that was in flight is
 * either wholly applied or not at all, and the vector count is exactly the expected one. A
 * writer's call may fail only as the kill makes it fail, with UNAVAILABLE after the kill: any
 * other failure (a server that rejects writes) fails the test. Durability policies rotate
 * between rounds ({@code group:5ms}, the default, {@code fsync}, {@code none}), and so do the
 * child's JVMs: three of the {@code group:5ms} rounds and the final check run with {@code
 * serve}'s JVM options ({@code bin/lib/java-opts.sh}: the Vector API kernels, full JIT), the
 * others on the scalar kernels with C1 only, which start in half the time. The collection is
 * trained part-way, so later rounds flush encoded segments. At the end a search that probes
 * every list (nprobe 16 of IVF16) and re-ranks exactly finds each of 50 vectors probed at the
 * top score.
 */
class CrashRecoveryTest {

  static final int ROUNDS = 16;
  static final int BATCH = 20;
  /** The default first. */
  static final String[] POLICIES = {"group:5ms", "fsync", "none"};
  static FloatMatrix sample;

  @TempDir Path tmp;

  @BeforeAll
  static void read() throws IOException {
    sample = AnnBenchmarksHdf5.readVectors(Path.of("../samples/debian-minilm-5k.hdf5"), "train");
  }

  /**
   * What an id holds: its values (a row of the sample) and attributes, among them the name of
   * the upsert that wrote it, so that no two writes of an id are alike.
   */
  record Value(int row, Map<String, Object> attributes) {
    static Value written(int row, String op, int writer) {
      return new Value(row, Map.of("op", op, "row", (long) row, "even", row % 2 == 0,
          "tags", List.of("writer-" + writer, op.substring(0, op.indexOf('-')))));
    }
  }

  /**
   * One request and what it would change: the new value of each id (upserts; null for
   * deletes) and the value each id held before it, from the last acknowledged write (null where
   * it did not exist).
   */
  record Op(boolean upsert, List<String> ids, List<Value> values, List<Value> before) {}

  /** What the clients know: acknowledged live ids and their values, and the uncertain ops. */
  static final class Ledger {
    final Map<String, Value> live = new ConcurrentHashMap<>();
    final List<Op> inFlight = java.util.Collections.synchronizedList(new ArrayList<>());
    final List<String> deleted = java.util.Collections.synchronizedList(new ArrayList<>());
    /** Calls that failed other than by the kill: each fails the test. */
    final List<String> rejected = java.util.Collections.synchronizedList(new ArrayList<>());
    int inFlightApplied;
    int inFlightDropped;
    int overwrites;
  }

  @Test
  void everyAcknowledgedWriteSurvivesSigkillAndNothingIsHalfApplied() throws Exception {
    Path data = tmp.resolve("data");
    Ledger ledger = new Ledger();
    Random rnd = new Random(42);
    long start = System.nanoTime();
    int[] nextRow = {0};
    for (int round = 0; round < ROUNDS; round++) {
      String policy = POLICIES[round % POLICIES.length];
      boolean asServe = round % 6 == 3; // rounds 3, 9 and 15: group:5ms, as serve runs
      Process p = startServer(data, round, policy, asServe);
      try (CodebookClient client = connect(p, round)) {
        if (asServe) {
          String log = Files.readString(tmp.resolve("server-" + round + ".log"));
          assertTrue(log.contains("kernels=" + VectorKernels.support().name()),
              "round " + round + " runs the kernels this JVM runs: " + log);
        }
        verify(client, ledger, round);
        if (round == 0) {
          client.createCollection("crash", sample.dim(), Metric.COSINE, "IVF16,PQ48x4fs,RFlat");
        }
        if (round == 3) {
          client.buildIndex("crash");
        }
        load(client, ledger, p, rnd, round, nextRow);
      } finally {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
      assertEquals(List.of(), ledger.rejected, "writes failed while the server was up, round "
          + round + " (" + policy + ")");
    }
    Process p = startServer(data, ROUNDS, "fsync", true);
    try (CodebookClient client = connect(p, ROUNDS)) {
      verify(client, ledger, ROUNDS);
      // Search quality after all the crashes: exhaustive probe + exact re-rank finds each vector.
      List<String> ids = new ArrayList<>(ledger.live.keySet());
      java.util.Collections.sort(ids);
      java.util.Collections.shuffle(ids, rnd);
      int probes = Math.min(50, ids.size());
      List<String> missed = new ArrayList<>();
      // Rows are reused once the sample runs out (nextRow wraps), so a vector is stored under
      // several ids: ask for enough neighbours to hold all its copies, or the top-k can be
      // full of other ids with the very same vector.
      Map<Integer, Integer> copies = new HashMap<>();
      ledger.live.values().forEach(v -> copies.merge(v.row(), 1, Integer::sum));
      for (String id : ids.subList(0, probes)) {
        int row = ledger.live.get(id).row();
        float[] q = sample.row(row);
        List<SearchHit> hits = client.search("crash", q,
            SearchOptions.topK(copies.get(row) + 4).withNprobe(16).withRerank(20));
        // The sample has a few duplicate vectors: accept the id anywhere at the top score.
        if (hits.stream().noneMatch(h -> h.id().equals(id)
            && h.score() >= hits.get(0).score() - 1e-5f)) {
          missed.add(id + " (row " + row + ", " + copies.get(row) + " ids) got "
              + hits.stream().map(h -> h.id() + "=" + h.score()).toList());
        }
      }
      assertEquals(List.of(), missed, probes + " probed; " + ledger.live.size() + " live, "
          + ledger.deleted.size() + " deleted");
    } finally {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    assertTrue(ledger.overwrites > 0, "some acknowledged upserts overwrote ids");
    System.err.printf("crash test: %d rounds, %d live vectors, %d deleted, %d overwrites"
            + " acknowledged, in-flight requests at the kill: %d applied whole, %d not at all;"
            + " %.1f s%n", ROUNDS, ledger.live.size(), ledger.deleted.size(), ledger.overwrites,
        ledger.inFlightApplied, ledger.inFlightDropped, (System.nanoTime() - start) / 1e9);
  }

  /**
   * Starts the child: with {@code serve}'s JVM options (Vector API kernels, full JIT) or, for a
   * quicker start, on the scalar kernels with C1 only.
   */
  private Process startServer(Path data, int round, String policy, boolean asServe)
      throws IOException {
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    Path portFile = tmp.resolve("port-" + round);
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m"));
    if (asServe) {
      cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "--add-modules",
          "jdk.incubator.vector"));
      if (Runtime.version().feature() >= 24) {
        cmd.add("--sun-misc-unsafe-memory-access=allow");
      }
      if (Runtime.version().feature() >= 25) {
        cmd.add("-Dio.netty.noUnsafe=true");
      }
    } else {
      cmd.addAll(List.of("-XX:TieredStopAtLevel=1", "-Dcodebook.kernels=scalar"));
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
        CrashTestServer.class.getName(), data.toString(), portFile.toString(), policy, "300"));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.redirectErrorStream(true);
    pb.redirectOutput(tmp.resolve("server-" + round + ".log").toFile());
    return pb.start();
  }

  private CodebookClient connect(Process p, int round) throws Exception {
    Path portFile = tmp.resolve("port-" + round);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.exists(portFile)) {
      if (!p.isAlive()) {
        fail("server exited with " + p.exitValue() + ": "
            + Files.readString(tmp.resolve("server-" + round + ".log")));
      }
      if (System.nanoTime() > deadline) {
        fail("server did not start: " + Files.readString(tmp.resolve("server-" + round + ".log")));
      }
      Thread.sleep(20);
    }
    int port = Integer.parseInt(Files.readString(portFile).strip());
    return CodebookClient.builder().target("127.0.0.1:" + port).maxRetries(0)
        .deadline(Duration.ofSeconds(20)).batchSize(BATCH).build();
  }

  /**
   * Two writers until the child is killed at a random moment after the first acknowledgement.
   * Each writer overwrites and deletes only ids it created (their names carry its number), so
   * the last acknowledged value of every id is known even while both write.
   */
  private void load(CodebookClient client, Ledger ledger, Process p, Random rnd, int round,
      int[] nextRow) throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicBoolean killed = new AtomicBoolean();
    CountDownLatch firstAck = new CountDownLatch(1);
    List<Thread> writers = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      int thread = t;
      Random r = new Random(rnd.nextLong());
      writers.add(Thread.ofPlatform().start(() -> {
        int seq = 0;
        while (!stop.get()) {
          String name = "r" + round + "-t" + thread + "-" + seq;
          Op op = nextOp(ledger, r, thread, name, nextRow);
          seq++;
          try {
            if (op.upsert()) {
              List<VectorRecord> recs = new ArrayList<>();
              for (int i = 0; i < op.ids().size(); i++) {
                Value v = op.values().get(i);
                recs.add(new VectorRecord(op.ids().get(i), sample.row(v.row()), v.attributes()));
              }
              client.upsert("crash", recs);
              for (int i = 0; i < op.ids().size(); i++) {
                ledger.live.put(op.ids().get(i), op.values().get(i));
              }
              if (op.before().get(0) != null) {
                synchronized (ledger) {
                  ledger.overwrites++;
                }
              }
            } else {
              client.delete("crash", op.ids(), true);
              for (String id : op.ids()) {
                ledger.live.remove(id);
                ledger.deleted.add(id);
              }
            }
            firstAck.countDown();
          } catch (CodebookException e) {
            if (killed.get() && e.code() == Status.Code.UNAVAILABLE) {
              // Killed mid-request: the outcome is unknown until the restart.
              ledger.inFlight.add(op);
              for (String id : op.ids()) {
                ledger.live.remove(id);
              }
            } else {
              ledger.rejected.add("writer " + thread + ", " + (killed.get() ? "after" : "before")
                  + " the kill: " + e.code() + ": " + e.getMessage());
            }
            return;
          } catch (RuntimeException | Error e) {
            ledger.rejected.add("writer " + thread + ": " + e);
            return;
          }
        }
      }));
    }
    assertTrue(firstAck.await(30, TimeUnit.SECONDS), "no write acknowledged: " + ledger.rejected);
    Thread.sleep(50 + rnd.nextInt(400));
    killed.set(true);
    p.destroyForcibly(); // SIGKILL
    p.waitFor(10, TimeUnit.SECONDS);
    stop.set(true);
    for (Thread w : writers) {
      w.join(30_000);
    }
  }

  /**
   * A writer's next request: mostly {@link #BATCH} new ids; one in five an overwrite of
   * {@link #BATCH} of its own ids with new rows and attributes; one in five a delete of five of
   * them (once it has enough).
   */
  private static Op nextOp(Ledger ledger, Random r, int thread, String name, int[] nextRow) {
    String mine = "-t" + thread + "-";
    List<String> own = new ArrayList<>();
    for (String id : ledger.live.keySet()) {
      if (id.contains(mine)) {
        own.add(id);
      }
    }
    java.util.Collections.sort(own); // the map's order is not reproducible
    int kind = r.nextInt(5);
    if (kind == 0 && own.size() >= 50) {
      List<String> ids = new ArrayList<>();
      List<Value> before = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        String id = own.remove(r.nextInt(own.size()));
        ids.add(id);
        before.add(ledger.live.get(id));
      }
      return new Op(false, ids, null, before);
    }
    boolean overwrite = kind == 1 && own.size() >= 50;
    List<String> ids = new ArrayList<>();
    List<Value> values = new ArrayList<>();
    List<Value> before = new ArrayList<>();
    for (int i = 0; i < BATCH; i++) {
      String id = overwrite ? own.remove(r.nextInt(own.size())) : name + "-" + i;
      int row;
      synchronized (nextRow) {
        row = nextRow[0]++ % sample.rows();
      }
      ids.add(id);
      values.add(Value.written(row, name, thread));
      before.add(overwrite ? ledger.live.get(id) : null);
    }
    return new Op(true, ids, values, before);
  }

  /** Checks the restarted server against the ledger and resolves the in-flight requests. */
  private void verify(CodebookClient client, Ledger ledger, int round) {
    if (round == 0) {
      return;
    }
    for (Op op : new ArrayList<>(ledger.inFlight)) {
      // Each id now holds what the request wrote (applied) or what it held before (not).
      int applied = 0;
      for (int i = 0; i < op.ids().size(); i++) {
        String id = op.ids().get(i);
        VectorRecord got = get(client, id);
        Value after = op.upsert() ? op.values().get(i) : null;
        Value before = op.before().get(i);
        if (holds(got, after)) {
          applied++;
        } else {
          assertTrue(holds(got, before), id + " holds neither what the request in flight wrote"
              + " (" + after + ") nor what it held before (" + before + "): " + describe(got));
        }
      }
      assertTrue(applied == 0 || applied == op.ids().size(), (op.upsert() ? "upsert" : "delete")
          + " half-applied: " + applied + " of " + op.ids());
      boolean whole = applied > 0;
      if (whole) {
        ledger.inFlightApplied++;
      } else {
        ledger.inFlightDropped++;
      }
      List<Value> now = whole ? (op.upsert() ? op.values() : null) : op.before();
      for (int i = 0; i < op.ids().size(); i++) {
        Value v = now == null ? null : now.get(i);
        if (v != null) {
          ledger.live.put(op.ids().get(i), v);
        } else {
          ledger.deleted.add(op.ids().get(i));
        }
      }
    }
    ledger.inFlight.clear();
    Map<String, Value> expect = new HashMap<>(ledger.live);
    List<String> ids = new ArrayList<>(expect.keySet());
    for (int from = 0; from < ids.size(); from += 500) {
      List<String> chunk = ids.subList(from, Math.min(ids.size(), from + 500));
      List<VectorRecord> got = client.get("crash", chunk);
      for (int i = 0; i < chunk.size(); i++) {
        Value v = expect.get(chunk.get(i));
        assertArrayEquals(sample.row(v.row()), got.get(i).values(), "values of " + chunk.get(i));
        assertEquals(v.attributes(), got.get(i).attributes(), "attributes of " + chunk.get(i));
      }
    }
    assertEquals(expect.size(), client.getCollection("crash").getVectorCount(),
        "vector count after restart " + round);
    List<String> gone = new ArrayList<>(ledger.deleted);
    for (String id : gone.subList(Math.max(0, gone.size() - 20), gone.size())) {
      if (!expect.containsKey(id)) {
        assertEquals(null, get(client, id), "deleted " + id + " is back");
      }
    }
  }

  /** Whether {@code got} (null: absent) is {@code v} (null: absent). */
  private static boolean holds(VectorRecord got, Value v) {
    if (got == null || v == null) {
      return got == null && v == null;
    }
    return java.util.Arrays.equals(sample.row(v.row()), got.values())
        && v.attributes().equals(got.attributes());
  }

  private static String describe(VectorRecord got) {
    return got == null ? "absent" : "attributes " + got.attributes();
  }

  /** The id's record, or null if it does not exist. */
  private static VectorRecord get(CodebookClient client, String id) {
    try {
      return client.get("crash", List.of(id)).get(0);
    } catch (CodebookException e) {
      if (e.code() == Status.Code.NOT_FOUND) {
        return null;
      }
      throw e;
    }
  }
}
