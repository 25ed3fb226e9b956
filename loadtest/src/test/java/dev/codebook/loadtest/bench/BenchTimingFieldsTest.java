package dev.codebook.loadtest.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.train.KMeans;
import dev.codebook.index.vector.AnnDataset;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** What a bench line says about its timing: median with the spread, passes and the rules. */
class BenchTimingFieldsTest {

  @Test
  void eachLineCarriesTheMedianTheSpreadAndTheRulesOfBothModes() {
    Random rnd = new Random(7);
    FloatMatrix train = FloatMatrix.allocate(300, 8);
    FloatMatrix test = FloatMatrix.allocate(20, 8);
    for (int i = 0; i < train.data().length; i++) {
      train.data()[i] = (float) rnd.nextGaussian();
    }
    for (int i = 0; i < test.data().length; i++) {
      test.data()[i] = (float) rnd.nextGaussian();
    }
    AnnDataset data = GroundTruth.withExactNeighbors(
        new AnnDataset(Path.of("tiny"), train, test, null, null, Similarity.DOT_PRODUCT), 10);
    Bench.Config config = new Bench.Config(IndexSpec.parse("Flat"), List.of(SearchParams.DEFAULTS),
        List.of(1, 2), 10, 0.0, 0.0, 3, true, 1, 42, 100_000, KMeans.Init.KMEANS_PLUS_PLUS);

    List<Map<String, Object>> lines = new Bench(msg -> { }).run(data, "tiny", config);

    assertEquals(2, lines.size());
    for (Map<String, Object> line : lines) {
      assertEquals(1.0, (Double) line.get("recall@10"), 1e-9); // Flat is exact
      assertEquals(1.0, (Double) line.get("recall@10_1q"), 1e-9);
      double qps = (Double) line.get("qps");
      double q1 = (Double) line.get("qps_1q");
      assertTrue((Double) line.get("qps_min") <= qps && qps <= (Double) line.get("qps_max"), line.toString());
      assertTrue((Double) line.get("qps_1q_min") <= q1 && q1 <= (Double) line.get("qps_1q_max"), line.toString());
      assertEquals(3, line.get("passes")); // min-time 0: exactly the minimum passes
      assertEquals(3, line.get("passes_1q"));
      assertEquals(0.0, line.get("warmup_s"));
      assertEquals(3, line.get("min_passes"));
      assertEquals("jvm", line.get("timing"));
      assertTrue(!line.containsKey("qps_cpu") || (Double) line.get("qps_cpu") > 0, line.toString());
    }
  }

  @Test
  void withoutOnePerCallThereIsNoSpreadOfIt() {
    Random rnd = new Random(8);
    FloatMatrix train = FloatMatrix.allocate(100, 4);
    for (int i = 0; i < train.data().length; i++) {
      train.data()[i] = (float) rnd.nextGaussian();
    }
    FloatMatrix test = new FloatMatrix(5, 4, java.util.Arrays.copyOf(train.data(), 20));
    AnnDataset data = GroundTruth.withExactNeighbors(
        new AnnDataset(Path.of("tiny"), train, test, null, null, Similarity.DOT_PRODUCT), 10);
    Bench.Config config = new Bench.Config(IndexSpec.parse("Flat"), List.of(), List.of(1), 10,
        0.0, 0.0, 2, false, 1, 42, 100_000, KMeans.Init.KMEANS_PLUS_PLUS);

    Map<String, Object> line = new Bench(msg -> { }).run(data, "tiny", config).get(0);

    assertEquals(2, line.get("passes"));
    assertTrue(!line.containsKey("qps_1q") && !line.containsKey("qps_1q_min")
        && !line.containsKey("passes_1q"), line.toString());
  }
}
