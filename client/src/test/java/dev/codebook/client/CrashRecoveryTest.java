package dev.codebook.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.codebook.api.v1.Metric;
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
 * with SIGKILL at a random moment while two clients upsert and delete through the real client,
 * then restarted on the same data directory. After every restart each acknowledged upsert is
 * there with its values, each acknowledged delete is gone, every request that was in flight is
 * either wholly applied or not at all, the vector count is exactly the expected one, and exact
 * search still finds every vector probed. Durability policies rotate between rounds; the
 * collection is trained part-way, so later rounds flush encoded segments.
 */
class CrashRecoveryTest {

  static final int ROUNDS = 20;
  static final int BATCH = 20;
  static final String[] POLICIES = {"group:2ms", "fsync", "none"};
  static FloatMatrix sample;

  @TempDir Path tmp;

  @BeforeAll
  static void read() throws IOException {
    sample = AnnBenchmarksHdf5.readVectors(Path.of("../samples/debian-minilm-5k.hdf5"), "train");
  }

  /** One request: ids (upsert: rows of the sample) and whether it was acknowledged. */
  record Op(boolean upsert, List<String> ids, List<Integer> rows) {}

  /** What the clients know: acknowledged live ids (id -> sample row), and the uncertain ops. */
  static final class Ledger {
    final Map<String, Integer> live = new ConcurrentHashMap<>();
    final List<Op> inFlight = java.util.Collections.synchronizedList(new ArrayList<>());
    final List<String> deleted = java.util.Collections.synchronizedList(new ArrayList<>());
    int inFlightApplied;
    int inFlightDropped;
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
      Process p = startServer(data, round, policy);
      try (CodebookClient client = connect(p, round)) {
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
    }
    Process p = startServer(data, ROUNDS, "fsync");
    try (CodebookClient client = connect(p, ROUNDS)) {
      verify(client, ledger, ROUNDS);
      // Search quality after all the crashes: exhaustive probe + exact re-rank finds each vector.
      List<String> ids = new ArrayList<>(ledger.live.keySet());
      java.util.Collections.shuffle(ids, rnd);
      int found = 0;
      int probes = Math.min(50, ids.size());
      List<String> missed = new ArrayList<>();
      // Rows are reused once the sample runs out (nextRow wraps), so a vector is stored under
      // several ids: ask for enough neighbours to hold all its copies, or the top-k can be
      // full of other ids with the very same vector.
      Map<Integer, Integer> copies = new HashMap<>();
      ledger.live.values().forEach(row -> copies.merge(row, 1, Integer::sum));
      for (String id : ids.subList(0, probes)) {
        int row = ledger.live.get(id);
        float[] q = sample.row(row);
        List<SearchHit> hits = client.search("crash", q,
            SearchOptions.topK(copies.get(row) + 4).withNprobe(16).withRerank(20));
        // The sample has a few duplicate vectors: accept the id anywhere at the top score.
        if (hits.stream().anyMatch(h -> h.id().equals(id)
            && h.score() >= hits.get(0).score() - 1e-5f)) {
          found++;
        } else {
          missed.add(id + " (row " + row + ", " + copies.get(row) + " ids) got "
              + hits.stream().map(h -> h.id() + "=" + h.score()).toList());
        }
      }
      assertTrue(found >= probes - 1, "found " + found + " of " + probes + "; missed: " + missed
          + "; " + ledger.live.size() + " live, " + ledger.deleted.size() + " deleted");
    } finally {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    System.err.printf("crash test: %d rounds, %d live vectors, %d deleted, in-flight requests"
            + " at the kill: %d applied whole, %d not at all; %.1f s%n", ROUNDS,
        ledger.live.size(), ledger.deleted.size(), ledger.inFlightApplied,
        ledger.inFlightDropped, (System.nanoTime() - start) / 1e9);
  }

  private Process startServer(Path data, int round, String policy) throws IOException {
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    Path portFile = tmp.resolve("port-" + round);
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1",
        "-Dcodebook.kernels=scalar", "-cp", System.getProperty("java.class.path"),
        CrashTestServer.class.getName(), data.toString(), portFile.toString(), policy, "300");
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

  /** Two writers until the child is killed at a random moment after the first acknowledgement. */
  private void load(CodebookClient client, Ledger ledger, Process p, Random rnd, int round,
      int[] nextRow) throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    CountDownLatch firstAck = new CountDownLatch(1);
    List<Thread> writers = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      int thread = t;
      Random r = new Random(rnd.nextLong());
      writers.add(Thread.ofPlatform().start(() -> {
        int seq = 0;
        while (!stop.get()) {
          Op op;
          if (r.nextInt(5) > 0 || ledger.live.size() < 50) {
            List<String> ids = new ArrayList<>();
            List<Integer> rows = new ArrayList<>();
            for (int i = 0; i < BATCH; i++) {
              ids.add("r" + round + "-t" + thread + "-" + seq + "-" + i);
              synchronized (nextRow) {
                rows.add(nextRow[0]++ % sample.rows());
              }
            }
            op = new Op(true, ids, rows);
          } else {
            List<String> candidates = new ArrayList<>(ledger.live.keySet());
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 5 && !candidates.isEmpty(); i++) {
              ids.add(candidates.remove(r.nextInt(candidates.size())));
            }
            op = new Op(false, ids, List.of());
          }
          seq++;
          try {
            if (op.upsert()) {
              List<VectorRecord> recs = new ArrayList<>();
              for (int i = 0; i < op.ids().size(); i++) {
                recs.add(VectorRecord.of(op.ids().get(i), sample.row(op.rows().get(i))));
              }
              client.upsert("crash", recs);
              for (int i = 0; i < op.ids().size(); i++) {
                ledger.live.put(op.ids().get(i), op.rows().get(i));
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
            // Killed mid-request: the outcome is unknown until the restart.
            ledger.inFlight.add(op);
            if (op.upsert() == false) {
              for (String id : op.ids()) {
                ledger.live.remove(id);
              }
            }
            return;
          }
        }
      }));
    }
    assertTrue(firstAck.await(30, TimeUnit.SECONDS), "no write acknowledged");
    Thread.sleep(50 + rnd.nextInt(400));
    p.destroyForcibly(); // SIGKILL
    p.waitFor(10, TimeUnit.SECONDS);
    stop.set(true);
    for (Thread w : writers) {
      w.join(30_000);
    }
  }

  /** Checks the restarted server against the ledger and resolves the in-flight requests. */
  private void verify(CodebookClient client, Ledger ledger, int round) {
    if (round == 0) {
      return;
    }
    for (Op op : new ArrayList<>(ledger.inFlight)) {
      int present = 0;
      for (String id : op.ids()) {
        if (exists(client, id)) {
          present++;
        }
      }
      if (present > 0) {
        ledger.inFlightApplied++;
      } else {
        ledger.inFlightDropped++;
      }
      if (op.upsert()) {
        assertTrue(present == 0 || present == op.ids().size(),
            "upsert half-applied: " + present + " of " + op.ids());
        if (present > 0) {
          for (int i = 0; i < op.ids().size(); i++) {
            ledger.live.put(op.ids().get(i), op.rows().get(i));
          }
        }
      } else {
        assertTrue(present == 0 || present == op.ids().size(),
            "delete half-applied: " + present + " of " + op.ids() + " remain");
        if (present > 0) {
          for (int i = 0; i < op.ids().size(); i++) {
            // Not deleted after all: they were acknowledged upserts before.
            ledger.live.put(op.ids().get(i), rowOf(client, op.ids().get(i)));
          }
        } else {
          ledger.deleted.addAll(op.ids());
        }
      }
    }
    ledger.inFlight.clear();
    Map<String, Integer> expect = new HashMap<>(ledger.live);
    List<String> ids = new ArrayList<>(expect.keySet());
    for (int from = 0; from < ids.size(); from += 500) {
      List<String> chunk = ids.subList(from, Math.min(ids.size(), from + 500));
      List<VectorRecord> got = client.get("crash", chunk);
      for (int i = 0; i < chunk.size(); i++) {
        assertArrayEquals(sample.row(expect.get(chunk.get(i))), got.get(i).values(),
            "values of " + chunk.get(i));
      }
    }
    assertEquals(expect.size(), client.getCollection("crash").getVectorCount(),
        "vector count after restart " + round);
    List<String> gone = new ArrayList<>(ledger.deleted);
    for (String id : gone.subList(Math.max(0, gone.size() - 20), gone.size())) {
      assertTrue(!exists(client, id), "deleted " + id + " is back");
    }
  }

  private static int rowOf(CodebookClient client, String id) {
    float[] v = client.get("crash", List.of(id)).get(0).values();
    for (int r = 0; r < sample.rows(); r++) {
      if (java.util.Arrays.equals(sample.row(r), v)) {
        return r;
      }
    }
    throw new AssertionError("values of " + id + " are not a sample row");
  }

  private static boolean exists(CodebookClient client, String id) {
    try {
      client.get("crash", List.of(id));
      return true;
    } catch (CodebookException e) {
      if (e.code() == Status.Code.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }
}
