package dev.codebook.index.vector;

import static dev.codebook.index.vector.MalformedFiles.assertMalformed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TexmexFilesTest {

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 13})
  void fvecsRoundTrip(int dim) throws IOException {
    // 40,000 rows of dim 13 span several 1 MB read batches.
    FloatMatrix m = randomFloats(new Random(dim), 40_000 / dim, dim);
    Path file = dir.resolve("v.fvecs");

    TexmexFiles.writeFvecs(file, m);

    assertEquals((long) m.rows() * (4 + 4 * dim), Files.size(file));
    FloatMatrix read = TexmexFiles.readFvecs(file);
    assertEquals(m.rows(), read.rows());
    assertEquals(m.dim(), read.dim());
    assertArrayEquals(m.data(), read.data());
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 13})
  void ivecsRoundTrip(int dim) throws IOException {
    Random random = new Random(100 + dim);
    IntMatrix m = IntMatrix.allocate(1_000, dim);
    for (int i = 0; i < m.data().length; i++) {
      m.data()[i] = random.nextInt();
    }
    Path file = dir.resolve("gt.ivecs");

    TexmexFiles.writeIvecs(file, m);

    IntMatrix read = TexmexFiles.readIvecs(file);
    assertEquals(m.rows(), read.rows());
    assertEquals(m.cols(), read.cols());
    assertArrayEquals(m.data(), read.data());
  }

  @Test
  void fvecsLayoutIsDimThenLittleEndianFloats() throws IOException {
    Path file = dir.resolve("two.fvecs");
    Files.write(file, le(8 + 8 + 8).putInt(2).putFloat(1.5f).putFloat(-2f)
        .putInt(2).putFloat(0f).putFloat(Float.MAX_VALUE).array());

    FloatMatrix m = TexmexFiles.readFvecs(file);

    assertEquals(2, m.rows());
    assertEquals(2, m.dim());
    assertArrayEquals(new float[] {1.5f, -2f, 0f, Float.MAX_VALUE}, m.data());
  }

  @Test
  void bvecsValuesAreUnsignedBytes() throws IOException {
    Path file = dir.resolve("sift.bvecs");
    ByteBuffer b = le(2 * (4 + 3));
    b.putInt(3).put((byte) 0).put((byte) 127).put((byte) 128);
    b.putInt(3).put((byte) 255).put((byte) 1).put((byte) 200);
    Files.write(file, b.array());

    FloatMatrix m = TexmexFiles.readBvecs(file);

    assertEquals(2, m.rows());
    assertArrayEquals(new float[] {0, 127, 128, 255, 1, 200}, m.data());
  }

  @Test
  void ivecsLayoutIsDimThenLittleEndianInts() throws IOException {
    Path file = dir.resolve("gt.ivecs");
    Files.write(file, le(16).putInt(3).putInt(7).putInt(-1).putInt(1 << 30).array());

    IntMatrix m = TexmexFiles.readIvecs(file);

    assertEquals(1, m.rows());
    assertArrayEquals(new int[] {7, -1, 1 << 30}, m.row(0));
  }

  @Test
  void truncatedFile() throws IOException {
    Path file = dir.resolve("cut.fvecs");
    TexmexFiles.writeFvecs(file, randomFloats(new Random(1), 10, 96));
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length - 3));

    assertMalformed(file,
        "truncated: 3877 bytes is not a whole number of 388-byte records (dim 96)",
        () -> TexmexFiles.readFvecs(file));
  }

  @Test
  void laterRecordWithAnotherDimThatBreaksTheLength() throws IOException {
    Path file = dir.resolve("mixed.fvecs");
    ByteBuffer b = le(20 + 16);
    b.putInt(4).putFloat(1).putFloat(2).putFloat(3).putFloat(4);
    b.putInt(3).putFloat(1).putFloat(2).putFloat(3);
    Files.write(file, b.array());

    assertMalformed(file, "record 1 has dim 3 but record 0 has dim 4",
        () -> TexmexFiles.readFvecs(file));
  }

  @Test
  void laterRecordWithAnotherDimThatKeepsTheLength() throws IOException {
    // dim 2 records are 12 bytes; a dim 1 record plus 4 stray bytes is 12 bytes too.
    Path file = dir.resolve("mixed.fvecs");
    ByteBuffer b = le(36);
    b.putInt(2).putFloat(1).putFloat(2);
    b.putInt(1).putFloat(1).putFloat(0);
    b.putInt(2).putFloat(1).putFloat(2);
    Files.write(file, b.array());

    assertMalformed(file, "record 1 has dim 1 but record 0 has dim 2",
        () -> TexmexFiles.readFvecs(file));
  }

  @Test
  void emptyFile() throws IOException {
    Path file = Files.write(dir.resolve("empty.fvecs"), new byte[0]);
    assertMalformed(file, "empty file", () -> TexmexFiles.readFvecs(file));
  }

  @Test
  void absurdDimension() throws IOException {
    Path file = dir.resolve("text.fvecs");
    Files.writeString(file, "this is not a vector file\n");
    assertMalformed(file, "first record has dim 1936287860, outside [1, 1048576]",
        () -> TexmexFiles.readFvecs(file));
  }

  @Test
  void nonPositiveDimension() throws IOException {
    Path file = Files.write(dir.resolve("zero.ivecs"), le(8).putInt(0).putInt(0).array());
    assertMalformed(file, "first record has dim 0", () -> TexmexFiles.readIvecs(file));
  }

  @Test
  void missingFile() {
    Path file = dir.resolve("missing.bvecs");
    assertMalformed(file, "no such file", () -> TexmexFiles.readBvecs(file));
  }

  private static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  static FloatMatrix randomFloats(Random random, int rows, int dim) {
    FloatMatrix m = FloatMatrix.allocate(rows, dim);
    for (int i = 0; i < m.data().length; i++) {
      m.data()[i] = (float) random.nextGaussian();
    }
    return m;
  }
}
