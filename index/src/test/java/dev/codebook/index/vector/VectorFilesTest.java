package dev.codebook.index.vector;

import static dev.codebook.index.vector.MalformedFiles.assertMalformed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VectorFilesTest {

  @TempDir Path dir;

  @Test
  void extensionChoosesTheFormat() throws IOException {
    FloatMatrix m = TexmexFilesTest.randomFloats(new Random(9), 20, 7);
    Path fvecs = dir.resolve("v.fvecs");
    Path npy = dir.resolve("V.NPY"); // Extensions are matched ignoring case.
    TexmexFiles.writeFvecs(fvecs, m);
    NpyFiles.writeFloatMatrix(npy, m);

    assertArrayEquals(m.data(), VectorFiles.readVectors(fvecs).data());
    assertArrayEquals(m.data(), VectorFiles.readVectors(npy).data());
  }

  @Test
  void bvecs() throws IOException {
    Path file = Files.write(dir.resolve("v.bvecs"), new byte[] {2, 0, 0, 0, 9, (byte) 250});
    assertArrayEquals(new float[] {9, 250}, VectorFiles.readVectors(file).data());
  }

  @Test
  void hdf5GivesItsTrainVectors() throws IOException {
    Path sample = AnnBenchmarksHdf5Test.SAMPLE;
    Path h5 = Files.copy(sample, dir.resolve("sample.h5"));

    FloatMatrix train = VectorFiles.readVectors(sample);

    assertEquals(5000, train.rows());
    assertArrayEquals(train.data(), VectorFiles.readVectors(h5).data());
    assertArrayEquals(train.data(), VectorFiles.readDataset(h5).train().data());
  }

  @Test
  void unknownExtension() throws IOException {
    Path file = Files.writeString(dir.resolve("v.csv"), "1,2,3\n");
    assertMalformed(
        file,
        "unsupported extension '.csv': expected one of .fvecs, .bvecs, .npy, .hdf5, .h5",
        () -> VectorFiles.readVectors(file));
  }

  @Test
  void noExtension() throws IOException {
    Path file = Files.writeString(dir.resolve("vectors"), "1,2,3\n");
    assertMalformed(file, "no file extension", () -> VectorFiles.readVectors(file));
  }

  @Test
  void datasetsComeOnlyFromHdf5() throws IOException {
    Path file = dir.resolve("v.fvecs");
    TexmexFiles.writeFvecs(file, TexmexFilesTest.randomFloats(new Random(1), 2, 3));
    assertMalformed(file, "not a benchmark dataset", () -> VectorFiles.readDataset(file));
  }
}
