package dev.codebook.index.vector;

import static dev.codebook.index.vector.MalformedFiles.assertMalformed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.DatasetCreationOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AnnBenchmarksHdf5Test {

  /** Maven runs the tests in the module directory, {@code index/}. */
  static final Path SAMPLE = Path.of("../samples/debian-minilm-5k.hdf5");

  @TempDir Path dir;

  @Test
  void readsTheBundledSample() throws IOException {
    AnnDataset ds = AnnBenchmarksHdf5.read(SAMPLE);

    assertEquals(SAMPLE, ds.source());
    assertEquals(Similarity.COSINE, ds.similarity()); // distance = "angular"
    assertShape(ds.train(), 5000, 384);
    assertShape(ds.test(), 200, 384);
    assertEquals(200, ds.neighbors().rows());
    assertEquals(100, ds.neighbors().cols());
    assertShape(ds.distances(), 200, 100);
    assertUnitRows(ds.train());
    assertUnitRows(ds.test());
    for (int id : ds.neighbors().data()) {
      assertTrue(id >= 0 && id < 5000, "neighbor id " + id);
    }
  }

  @Test
  void sampleValuesMatchH5py() throws IOException {
    // Expected values printed by h5py (an independent HDF5 reader), e.g.
    // python3 -c "import h5py; print(h5py.File('samples/debian-minilm-5k.hdf5')['train'][0][:5])"
    AnnDataset ds = AnnBenchmarksHdf5.read(SAMPLE);
    float[] train0 = ds.train().row(0);
    assertArrayEquals(
        new float[] {-0.028158603f, -0.057001073f, -0.046642173f, -0.016555734f, -0.010750127f},
        Arrays.copyOf(train0, 5));
    assertEquals(-0.038470153f, train0[100]);
    assertEquals(-0.00028515383f, train0[383]);
    assertArrayEquals(
        new float[] {-0.06410577f, -0.108737364f, -0.088260524f},
        Arrays.copyOf(ds.test().row(199), 3));
    assertArrayEquals(
        new int[] {14, 3629, 2824, 4982, 2974}, Arrays.copyOf(ds.neighbors().row(0), 5));
    assertEquals(4178, ds.neighbors().get(199, 97));
    assertEquals(4836, ds.neighbors().get(199, 98));
    assertEquals(2121, ds.neighbors().get(199, 99));
    assertArrayEquals(
        new float[] {0.29952273f, 0.45914844f, 0.46287715f},
        Arrays.copyOf(ds.distances().row(0), 3));
    assertEquals(0.65737003f, ds.distances().data()[ds.distances().data().length - 1]);
  }

  @Test
  void readVectorsReadsOneDatasetAlone() throws IOException {
    FloatMatrix train = AnnBenchmarksHdf5.readVectors(SAMPLE, "train");
    assertArrayEquals(AnnBenchmarksHdf5.read(SAMPLE).train().data(), train.data());
  }

  @Test
  void readsTheSharedDebianDatasetWhenPresent() throws IOException {
    String shared = System.getProperty("codebook.shared");
    assumeTrue(shared != null, "codebook.shared is not set");
    Path file = Path.of(shared, "data", "debian-minilm-384-angular.hdf5");
    assumeTrue(Files.isRegularFile(file), file + " is absent: the 28k debian set is not here");

    AnnDataset ds = AnnBenchmarksHdf5.read(file);

    assertEquals(Similarity.COSINE, ds.similarity());
    assertShape(ds.train(), 28_000, 384);
    assertShape(ds.test(), 1_000, 384);
    assertEquals(1_000, ds.neighbors().rows());
    assertEquals(100, ds.neighbors().cols());
    assertUnitRows(ds.train());
    // Values printed by h5py.
    assertArrayEquals(
        new float[] {-0.082999535f, 0.061749943f, -0.038888514f},
        Arrays.copyOf(ds.train().row(0), 3));
    assertEquals(0.07754332f, ds.train().data()[27_999 * 384 + 382]);
    assertEquals(-0.02591567f, ds.train().data()[27_999 * 384 + 383]);
    assertArrayEquals(new int[] {35, 22831, 6094}, Arrays.copyOf(ds.neighbors().row(0), 3));
    assertEquals(22810, ds.neighbors().get(999, 99));
  }

  @Test
  void chunkedCompressedAndFloat64DatasetsReadLikeContiguousOnes() throws IOException {
    Random random = new Random(42);
    float[][] train = randomRows(random, 11, 70_001); // Wide rows: several jHDF slices per read.
    float[][] test = randomRows(random, 3, 70_001);
    double[][] test64 = new double[test.length][];
    for (int i = 0; i < test.length; i++) {
      test64[i] = new double[test[i].length];
      for (int j = 0; j < test[i].length; j++) {
        test64[i][j] = test[i][j];
      }
    }
    Path file = dir.resolve("chunked.hdf5");
    try (WritableHdfFile f = HdfFile.write(file)) {
      f.putDataset("train", train,
          DatasetCreationOptions.builder().chunkDimensions(2, 70_001).shuffle().deflate().build());
      f.putDataset("test", test64);
      f.putDataset("neighbors", new long[][] {{10, 0}, {1, 2}, {3, 4}}); // int64 ids
      f.putAttribute("distance", "euclidean");
    }

    AnnDataset ds = AnnBenchmarksHdf5.read(file);

    assertEquals(Similarity.EUCLIDEAN, ds.similarity());
    assertArrayEquals(flatten(train), ds.train().data());
    assertArrayEquals(flatten(test), ds.test().data());
    assertArrayEquals(new int[] {10, 0, 1, 2, 3, 4}, ds.neighbors().data());
    assertNull(ds.distances());
  }

  @Test
  void neighborsAndDistancesAreOptional() throws IOException {
    Path file = hdf5("bare.hdf5", "dot", Map.of("train", rows(4, 3), "test", rows(2, 3)));

    AnnDataset ds = AnnBenchmarksHdf5.read(file);

    assertEquals(Similarity.DOT_PRODUCT, ds.similarity());
    assertArrayEquals(flatten(rows(4, 3)), ds.train().data());
    assertNull(ds.neighbors());
    assertNull(ds.distances());
  }

  @Test
  void missingFile() {
    Path file = dir.resolve("nope.hdf5");
    assertMalformed(file, "no such file", () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void emptyFile() throws IOException {
    Path file = Files.write(dir.resolve("empty.hdf5"), new byte[0]);
    assertMalformed(file, "empty file", () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void textFileNamedHdf5() throws IOException {
    Path file = Files.writeString(dir.resolve("notes.hdf5"), "train,test\n1,2\n".repeat(100));
    assertMalformed(file, "not an HDF5 file", () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void truncatedSample() throws IOException {
    Path file = dir.resolve("first-megabyte.hdf5");
    Files.write(file, Arrays.copyOf(Files.readAllBytes(SAMPLE), 1 << 20));
    assertMalformed(file, "truncated", () -> AnnBenchmarksHdf5.read(file));
    assertMalformed(file, "truncated", () -> AnnBenchmarksHdf5.readVectors(file, "train"));
  }

  @Test
  void sampleMissingItsLastBytes() throws IOException {
    byte[] all = Files.readAllBytes(SAMPLE);
    Path file = Files.write(dir.resolve("short.hdf5"), Arrays.copyOf(all, all.length - 1000));
    assertMalformed(file, "truncated", () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void missingTest() throws IOException {
    Path file = hdf5("no-test.hdf5", "angular", Map.of("train", rows(4, 3)));
    assertMalformed(file, "no 'test' dataset (found: train)", () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void missingTrain() throws IOException {
    Path file = hdf5("no-train.hdf5", "angular", Map.of("test", rows(4, 3)));
    assertMalformed(file, "no 'train' dataset", () -> AnnBenchmarksHdf5.read(file));
    assertMalformed(file, "no 'train' dataset", () -> AnnBenchmarksHdf5.readVectors(file, "train"));
  }

  @Test
  void trainAndTestDimensionsDiffer() throws IOException {
    Path file = hdf5("dims.hdf5", "angular", Map.of("train", rows(4, 384), "test", rows(2, 96)));
    assertMalformed(file, "vector dimensions differ: train has 384, test has 96",
        () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void neighborRowsMustMatchTestRows() throws IOException {
    Path file = hdf5("rows.hdf5", "angular", Map.of(
        "train", rows(4, 3), "test", rows(2, 3), "neighbors", new int[][] {{0, 1}}));
    assertMalformed(
        file, "neighbors has 1 rows but test has 2", () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void neighborIdsMustBeTrainRows() throws IOException {
    Path file = hdf5("ids.hdf5", "angular", Map.of(
        "train", rows(4, 3), "test", rows(2, 3), "neighbors", new int[][] {{0, 1}, {3, 4}}));
    assertMalformed(file, "neighbors[1][1] = 4 is out of range [0, 4)",
        () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void distancesMustMatchNeighbors() throws IOException {
    Path file = hdf5("distances.hdf5", "angular", Map.of(
        "train", rows(4, 3), "test", rows(2, 3),
        "neighbors", new int[][] {{0, 1}, {2, 3}}, "distances", rows(2, 3)));
    assertMalformed(file, "distances has shape [2, 3] but neighbors has [2, 2]",
        () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void distanceAttributeIsRequired() throws IOException {
    Path file = hdf5("no-metric.hdf5", null, Map.of("train", rows(4, 3), "test", rows(2, 3)));
    assertMalformed(file, "no root attribute 'distance'", () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void unknownDistance() throws IOException {
    Path file = hdf5("hamming.hdf5", "hamming", Map.of("train", rows(4, 3), "test", rows(2, 3)));
    assertMalformed(file, "root attribute 'distance': unknown metric 'hamming'",
        () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void wrongRank() throws IOException {
    Path file = hdf5("rank.hdf5", "angular",
        Map.of("train", new float[] {1, 2, 3}, "test", rows(2, 3)));
    assertMalformed(file, "dataset 'train' has rank 1 (shape [3]), expected 2",
        () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void wrongDtype() throws IOException {
    Path file = hdf5("dtype.hdf5", "angular",
        Map.of("train", new int[][] {{1, 2, 3}}, "test", rows(2, 3)));
    assertMalformed(file, "dataset 'train' has dtype int32, expected float32 or float64",
        () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void groupInPlaceOfADataset() throws IOException {
    Path file = dir.resolve("group.hdf5");
    try (WritableHdfFile f = HdfFile.write(file)) {
      f.putDataset("train", rows(4, 3));
      f.putGroup("test");
      f.putAttribute("distance", "angular");
    }
    assertMalformed(file, "'test' is a group, not a dataset", () -> AnnBenchmarksHdf5.read(file));
  }

  @Test
  void directory() {
    assertMalformed(dir, "is a directory", () -> AnnBenchmarksHdf5.read(dir));
  }

  @Test
  void garbageAfterTheSignature() throws IOException {
    byte[] bytes = new byte[4096];
    new Random(7).nextBytes(bytes);
    byte[] signature = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    System.arraycopy(signature, 0, bytes, 0, signature.length);
    Path file = Files.write(dir.resolve("garbage.hdf5"), bytes);
    assertMalformed(file, "corrupt HDF5 file: ", () -> AnnBenchmarksHdf5.read(file));
  }

  private Path hdf5(String name, String distance, Map<String, Object> datasets) {
    Path file = dir.resolve(name);
    try (WritableHdfFile f = HdfFile.write(file)) {
      datasets.forEach(f::putDataset);
      if (distance != null) {
        f.putAttribute("distance", distance);
      }
    }
    return file;
  }

  /** A small matrix with distinct, exactly representable values. */
  private static float[][] rows(int n, int d) {
    float[][] m = new float[n][d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        m[i][j] = i + j / 1024f;
      }
    }
    return m;
  }

  private static float[][] randomRows(Random random, int n, int d) {
    float[][] m = new float[n][d];
    for (float[] row : m) {
      for (int j = 0; j < d; j++) {
        row[j] = (float) random.nextGaussian();
      }
    }
    return m;
  }

  private static float[] flatten(float[][] m) {
    float[] out = new float[m.length * m[0].length];
    for (int i = 0; i < m.length; i++) {
      System.arraycopy(m[i], 0, out, i * m[0].length, m[0].length);
    }
    return out;
  }

  private static void assertShape(FloatMatrix m, int rows, int dim) {
    assertEquals(rows, m.rows(), "rows");
    assertEquals(dim, m.dim(), "dim");
  }

  private static void assertUnitRows(FloatMatrix m) {
    for (int i = 0; i < m.rows(); i++) {
      double norm2 = 0;
      for (int j = 0; j < m.dim(); j++) {
        double v = m.data()[m.offset(i) + j];
        norm2 += v * v;
      }
      assertEquals(1.0, Math.sqrt(norm2), 1e-3, "norm of row " + i);
    }
  }
}
