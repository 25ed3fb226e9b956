package dev.codebook.index.ivf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class HeapRawVectorsTest {

  @Test
  void prefetchingRowsUpToTheLastLeavesEveryRowAsAdded() {
    int dim = 20; // not a multiple of a cache line's 16 floats
    HeapRawVectors raw = new HeapRawVectors(dim);
    float[] all = new float[30 * dim];
    for (int i = 0; i < all.length; i++) {
      all[i] = i * 0.5f;
    }
    raw.add(all, 30);
    raw.prefetch(new int[] {29, 0, 17, 29}, 4);
    raw.prefetch(new int[] {5}, 0);
    float[] row = new float[dim];
    for (int id = 0; id < 30; id++) {
      raw.get(id, row, 0);
      assertArrayEquals(Arrays.copyOfRange(all, id * dim, (id + 1) * dim), row, "row " + id);
    }
  }
}
