package dev.codebook.index.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KthLargestTest {

  @ParameterizedTest
  @CsvSource({"1,50", "10,5", "10,1000", "32,500", "40,900", "64,500", "65,500", "80,7000", "100,100", "7,300"})
  void theBarNeverExceedsTheTrueKthLargestAndTheExactBarEqualsIt(int k, int n) {
    for (int round = 0; round < 5; round++) {
      Random r = new Random(31L * k + n + round);
      KthLargest t = new KthLargest(k);
      float[] seen = new float[n];
      for (int i = 0; i < n; i++) {
        // Few distinct values in some rounds: ties around the k-th must not break selection.
        float v = round % 2 == 0 ? (float) r.nextGaussian() : r.nextInt(20);
        seen[i] = v;
        t.add(v);
        float[] sorted = Arrays.copyOf(seen, i + 1);
        Arrays.sort(sorted);
        float kth = i + 1 >= k ? sorted[i + 1 - k] : Float.NEGATIVE_INFINITY;
        assertTrue(t.bar() <= kth, "after " + (i + 1) + ": bar " + t.bar() + " > " + kth);
        assertEquals(i + 1 >= k, t.isFull());
      }
      float[] sorted = seen.clone();
      Arrays.sort(sorted);
      assertEquals(n >= k ? sorted[n - k] : Float.NEGATIVE_INFINITY, t.exactBar());
    }
  }

  @ParameterizedTest
  @CsvSource({"3"})
  void valuesAtOrBelowTheBarAreRejected(int k) {
    KthLargest t = new KthLargest(k);
    t.add(5);
    t.add(6);
    assertFalse(t.isFull());
    assertTrue(t.add(7), "the k-th value sets the bar");
    assertEquals(5f, t.bar());
    assertFalse(t.add(5), "not above the bar");
    assertFalse(t.add(Float.NaN));
    t.clear();
    assertEquals(Float.NEGATIVE_INFINITY, t.bar());
    assertFalse(t.isFull());
  }
}
