package dev.codebook.index.vector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AnnDatasetTest {

  private static final Path SOURCE = Path.of("test.hdf5");

  @Test
  void trainAndTestMustShareTheDimension() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new AnnDataset(SOURCE, FloatMatrix.allocate(2, 384), FloatMatrix.allocate(1, 96),
            null, null, Similarity.COSINE));
    assertEquals("vector dimensions differ: train has 384, test has 96", e.getMessage());
  }

  @Test
  void groundTruthNeedsARowPerQuery() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new AnnDataset(SOURCE, FloatMatrix.allocate(5, 3), FloatMatrix.allocate(4, 3),
            IntMatrix.allocate(3, 10), null, Similarity.COSINE));
    assertEquals("neighbors has 3 rows, test has 4", e.getMessage());
  }

  @Test
  void withQueryLimitKeepsTheFirstQueriesAndTheirGroundTruth() {
    Random random = new Random(5);
    FloatMatrix train = TexmexFilesTest.randomFloats(random, 10, 7);
    FloatMatrix test = TexmexFilesTest.randomFloats(random, 4, 7);
    IntMatrix neighbors = new IntMatrix(4, 2, new int[] {0, 1, 2, 3, 4, 5, 6, 7});
    FloatMatrix distances = TexmexFilesTest.randomFloats(random, 4, 2);
    AnnDataset ds = new AnnDataset(SOURCE, train, test, neighbors, distances, Similarity.EUCLIDEAN);

    AnnDataset two = ds.withQueryLimit(2);

    assertSame(train, two.train());
    assertEquals(2, two.test().rows());
    assertArrayEquals(test.head(2).data(), two.test().data());
    assertArrayEquals(new int[] {0, 1, 2, 3}, two.neighbors().data());
    assertArrayEquals(distances.head(2).data(), two.distances().data());
    assertSame(ds, ds.withQueryLimit(4));
    assertSame(ds, ds.withQueryLimit(100));
    assertThrows(IllegalArgumentException.class, () -> ds.withQueryLimit(-1));
  }

  @Test
  void intMatrixIsRowMajorAndChecked() {
    IntMatrix m = new IntMatrix(2, 3, new int[] {1, 2, 3, 4, 5, 6});
    assertEquals(6, m.get(1, 2));
    assertEquals(4, m.get(1, 0));
    assertArrayEquals(new int[] {4, 5, 6}, m.row(1));
    assertThrows(IndexOutOfBoundsException.class, () -> m.get(0, 3));
    assertThrows(IndexOutOfBoundsException.class, () -> m.get(2, 0));
    assertThrows(IllegalArgumentException.class, () -> new IntMatrix(2, 3, new int[5]));
    assertThrows(IllegalArgumentException.class, () -> new IntMatrix(1, 0, new int[0]));
  }
}
