package dev.codebook.index.ivf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MappedRawVectorsTest {

  @Test
  void readsBackEveryRowAcrossAppendsAndMappingBoundaries(@TempDir Path dir) throws Exception {
    int dim = 13;
    Random r = new Random(4);
    float[] all = new float[1000 * dim];
    for (int i = 0; i < all.length; i++) {
      all[i] = (float) r.nextGaussian();
    }
    Path file = dir.resolve("raw.f32");
    // 37 rows per mapping, so rows land in many chunks and appends split chunks.
    try (MappedRawVectors raw = new MappedRawVectors(file, dim, 37L * 4 * dim)) {
      raw.add(Arrays.copyOfRange(all, 0, 100 * dim), 100);
      raw.add(Arrays.copyOfRange(all, 100 * dim, 101 * dim), 1);
      raw.add(Arrays.copyOfRange(all, 101 * dim, all.length), 899);
      assertEquals(1000, raw.size());
      float[] row = new float[dim + 2];
      for (int id = 0; id < 1000; id++) {
        raw.get(id, row, 2);
        assertArrayEquals(Arrays.copyOfRange(all, id * dim, (id + 1) * dim),
            Arrays.copyOfRange(row, 2, dim + 2), "row " + id);
      }
    }
    assertEquals(4L * all.length, Files.size(file), "the file is the rows and nothing else");
  }

  @Test
  void touchReadsOneFloatPerCacheLineAndTheRowsLastOfEveryRowAskedFor(@TempDir Path dir) {
    int dim = 40; // lines start at floats 0, 16, 32; the row's last float is 39
    float[] all = new float[50 * dim];
    for (int i = 0; i < all.length; i++) {
      all[i] = i % dim == 0 || i % dim == 16 || i % dim == 32 || i % dim == 39 ? i : 1e-3f * i;
    }
    try (MappedRawVectors raw = new MappedRawVectors(dir.resolve("raw.f32"), dim, 7L * 4 * dim)) {
      raw.add(all, 50);
      int[] ids = {49, 0, 21};
      float expected = 0;
      for (int id : ids) {
        for (int j : new int[] {0, 16, 32, 39}) {
          expected += all[id * dim + j];
        }
      }
      java.nio.FloatBuffer[] chunks = new java.nio.FloatBuffer[0];
      assertEquals(0f, MappedRawVectors.touch(chunks, 7, dim, ids, 0), "no rows, no loads");
      raw.prefetch(ids, ids.length); // the last row of the file and rows in three mappings
      float[] row = new float[dim];
      raw.get(49, row, 0);
      assertArrayEquals(Arrays.copyOfRange(all, 49 * dim, 50 * dim), row);
      // The same arithmetic over chunks of 7 rows, as the file's mappings are cut.
      java.nio.FloatBuffer[] seven = new java.nio.FloatBuffer[8];
      for (int c = 0; c < seven.length; c++) {
        int from = c * 7 * dim;
        seven[c] = java.nio.FloatBuffer.wrap(all, from, Math.min(7 * dim, all.length - from))
            .slice();
      }
      assertEquals(expected, MappedRawVectors.touch(seven, 7, dim, ids, ids.length), 1e-3f);
    }
  }
}
