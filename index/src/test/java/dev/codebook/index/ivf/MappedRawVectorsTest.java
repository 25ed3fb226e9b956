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
}
