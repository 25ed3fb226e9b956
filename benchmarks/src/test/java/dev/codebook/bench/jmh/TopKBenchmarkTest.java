package dev.codebook.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Both {@link TopKBenchmark} loops end with the k-th best score as the heap's threshold. */
class TopKBenchmarkTest {

  @ParameterizedTest(name = "k={0} {1}")
  @CsvSource({"10, random", "100, random", "10, ascending", "100, ascending"})
  void thresholdIsKthBest(int k, String order) {
    TopKBenchmark b = new TopKBenchmark();
    b.k = k;
    b.order = order;
    b.setup();
    float[] sorted = b.scores.clone();
    Arrays.sort(sorted);
    float kthBest = sorted[sorted.length - k];
    assertEquals(kthBest, b.offer());
    assertEquals(k, b.top.size());
    assertEquals(kthBest, b.offerAboveThreshold());
    assertEquals(k, b.top.size());
  }
}
