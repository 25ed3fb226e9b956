package dev.codebook.client;

import dev.codebook.index.SearchContext;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.codebook.api.v1.BuildIndexResponse;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.Operation;
import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.VectorIndex;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.vector.AnnBenchmarksHdf5;
import dev.codebook.index.vector.AnnDataset;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.server.CodebookServer;
import dev.codebook.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 4's end-to-end check: the real server on a free port, the full debian-minilm train set
 * (28,000 x 384) streamed in through StreamVectors, IVF-PQ built as an operation, the test
 * queries searched through gRPC, and the answers compared with the same index built in process
 * (same spec, seed, training set and search parameters): identical ids, so identical recall.
 */
class ServerEndToEndTest {

  static final String SPEC = "IVF64,PQ48x4fs";
  static final int NPROBE = 16;
  static final int K = 10;
  static final long SEED = 42;

  @Test
  void streamedBuiltAndSearchedThroughTheServerEqualsInProcess() throws Exception {
    Path file = Path.of(System.getProperty("codebook.shared", "../../shared"), "data",
        "debian-minilm-384-angular.hdf5");
    assumeTrue(Files.isRegularFile(file), file + " is absent: the 28k debian set is not here");
    AnnDataset data = AnnBenchmarksHdf5.read(file);
    FloatMatrix train = data.train();
    FloatMatrix test = data.test();

    // In process, as bench does it: train on every row (fewer than --max-train), add them all.
    int threads = Runtime.getRuntime().availableProcessors();
    VectorIndex index = IndexFactory.create(IndexSpec.parse(SPEC), train.dim(), data.similarity(),
        train, new IndexFactory.BuildOptions(SEED, threads, s -> {}));
    index.add(train);
    SearchResults local = new SearchResults(test.rows(), K);
    index.search(SearchContext.of(index.prepareQueries(test), new SearchParams(NPROBE, 1), local));
    double localRecall = recall(data, i -> local.idsOf(i));

    try (CodebookServer server = CodebookServer.start(
            ServerConfig.defaults().withPort(0).withShutdownGrace(Duration.ofSeconds(5)));
        CodebookClient client = CodebookClient.builder().target("127.0.0.1:" + server.port())
            .deadline(Duration.ofSeconds(60)).build()) {
      client.createCollection("debian", train.dim(), Metric.COSINE, SPEC);
      List<VectorRecord> records = new ArrayList<>(train.rows());
      for (int i = 0; i < train.rows(); i++) {
        records.add(VectorRecord.of(Integer.toString(i), train.row(i)));
      }
      List<Long> acks = new ArrayList<>();
      UpsertResult ingested = client.streamUpsert("debian", records, 1000,
          (batch, acknowledged, count) -> acks.add(acknowledged));
      assertEquals(train.rows(), ingested.upserted());
      assertEquals(train.rows(), ingested.vectorCount());
      assertEquals(28, acks.size(), "one acknowledgement per batch of 1000");
      for (int b = 0; b < acks.size(); b++) {
        assertEquals(Math.min(train.rows(), 1000L * (b + 1)), acks.get(b));
      }

      Operation started = client.startBuildIndex("debian", SEED);
      assertEquals(Operation.Kind.BUILD_INDEX, started.getKind());
      assertEquals("collections/debian", started.getCollection());
      List<Double> progress = new ArrayList<>();
      Operation done = client.awaitOperation(started.getName(), Duration.ofMinutes(5),
          Duration.ofMillis(200), op -> progress.add(op.getProgress()));
      assertEquals(Operation.State.SUCCEEDED, done.getState(), done::toString);
      for (int i = 1; i < progress.size(); i++) {
        assertTrue(progress.get(i) >= progress.get(i - 1), "progress never goes back: " + progress);
      }
      assertEquals(1.0, done.getProgress());
      BuildIndexResponse result = CodebookClient.resultOf(done);
      assertEquals(train.rows(), result.getTrainingVectorCount());
      assertEquals(Collection.State.READY, client.getCollection("debian").getState());

      int[][] remote = new int[test.rows()][];
      int batch = 500;
      for (int from = 0; from < test.rows(); from += batch) {
        int to = Math.min(test.rows(), from + batch);
        float[][] queries = new float[to - from][];
        for (int q = from; q < to; q++) {
          queries[q - from] = test.row(q);
        }
        List<List<SearchHit>> hits = client.search("debian", queries,
            SearchOptions.topK(K).withNprobe(NPROBE));
        for (int q = from; q < to; q++) {
          remote[q] = hits.get(q - from).stream().mapToInt(h -> Integer.parseInt(h.id())).toArray();
        }
      }
      for (int q = 0; q < test.rows(); q++) {
        assertArrayEquals(local.idsOf(q), remote[q], "query " + q);
      }
      double serverRecall = recall(data, q -> remote[q]);
      assertEquals(localRecall, serverRecall, "recall@10 through the server vs in process");
      assertTrue(serverRecall > 0.3, "a real IVF-PQ recall: " + serverRecall);
    }
  }

  /** Mean recall@10 of {@code ids} against the file's ground truth. */
  static double recall(AnnDataset data, java.util.function.IntFunction<int[]> ids) {
    long hit = 0;
    for (int q = 0; q < data.test().rows(); q++) {
      int[] truth = data.neighbors().row(q);
      for (int id : ids.apply(q)) {
        for (int t = 0; t < K; t++) {
          if (truth[t] == id) {
            hit++;
            break;
          }
        }
      }
    }
    return (double) hit / (data.test().rows() * (long) K);
  }
}
