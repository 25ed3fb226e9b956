package dev.codebook.index.search;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TopKTest {

  @Test
  void keepsTheKBestBestFirstLikeAFullSort() {
    Random r = new Random(42);
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + r.nextInt(500);
      int k = 1 + r.nextInt(40);
      float[] s = new float[n];
      for (int i = 0; i < n; i++) {
        // few distinct values, so ties are common; negative ones too
        s[i] = (r.nextInt(20) - 10) / 4f;
      }
      TopK heap = new TopK(k);
      for (int i = 0; i < n; i++) {
        heap.offer(i, s[i]);
      }
      int[] expected =
          IntStream.range(0, n)
              .boxed()
              .sorted(Comparator.<Integer>comparingDouble(i -> -s[i]).thenComparingInt(i -> i))
              .limit(k)
              .mapToInt(Integer::intValue)
              .toArray();
      int[] ids = new int[k];
      float[] scores = new float[k];
      Arrays.fill(ids, -7);
      int got = heap.drainBestFirst(ids, scores, 0);
      assertEquals(expected.length, got);
      assertArrayEquals(expected, Arrays.copyOf(ids, got));
      for (int i = 0; i < got; i++) {
        assertEquals(s[expected[i]], scores[i]);
      }
      assertEquals(0, heap.size());
    }
  }

  @Test
  void thresholdIsTheWorstKeptOnceFull() {
    TopK heap = new TopK(2);
    assertEquals(Float.NEGATIVE_INFINITY, heap.threshold());
    heap.offer(1, 5f);
    heap.offer(2, 3f);
    assertEquals(3f, heap.threshold());
    assertFalse(heap.offer(3, 2f));
    heap.offer(4, 4f);
    assertEquals(4f, heap.threshold());
  }

  @Test
  void tiesGoToTheLowerId() {
    TopK heap = new TopK(1);
    heap.offer(9, 1f);
    heap.offer(3, 1f);
    heap.offer(5, 1f);
    int[] ids = new int[1];
    heap.drainBestFirst(ids, null, 0);
    assertEquals(3, ids[0]);
  }

  @Test
  void rejectsNonPositiveK() {
    assertThrows(IllegalArgumentException.class, () -> new TopK(0));
  }
}
