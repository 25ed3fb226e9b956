package dev.codebook.index.vector;

import static dev.codebook.index.vector.MalformedFiles.assertMalformed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NpyFilesTest {

  /**
   * Written by NumPy itself: {@code np.save(f, (np.arange(6, dtype='<f4').reshape(2, 3) - 2.5) *
   * 0.5)}, that is {@code [[-1.25, -0.75, -0.25], [0.25, 0.75, 1.25]]}.
   */
  private static final String NUMPY_2X3_F4 =
      "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzog"
          + "KDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg"
          + "ICAgICAgIAoAAKC/AABAvwAAgL4AAIA+AABAPwAAoD8=";

  private static final float[] NUMPY_2X3_VALUES = {-1.25f, -0.75f, -0.25f, 0.25f, 0.75f, 1.25f};

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 13})
  void roundTrip(int dim) throws IOException {
    FloatMatrix m = TexmexFilesTest.randomFloats(new Random(dim), 300_000 / dim, dim);
    Path file = dir.resolve("v.npy");

    NpyFiles.writeFloatMatrix(file, m);

    FloatMatrix read = NpyFiles.readFloatMatrix(file);
    assertEquals(m.rows(), read.rows());
    assertEquals(m.dim(), read.dim());
    assertArrayEquals(m.data(), read.data());
  }

  @Test
  void readsWhatNumpyWrites() throws IOException {
    Path file = Files.write(dir.resolve("numpy.npy"), Base64.getDecoder().decode(NUMPY_2X3_F4));

    FloatMatrix m = NpyFiles.readFloatMatrix(file);

    assertEquals(2, m.rows());
    assertEquals(3, m.dim());
    assertArrayEquals(NUMPY_2X3_VALUES, m.data());
  }

  @Test
  void writesWhatNumpyWrites() throws IOException {
    Path file = dir.resolve("ours.npy");
    NpyFiles.writeFloatMatrix(file, new FloatMatrix(2, 3, NUMPY_2X3_VALUES));
    assertArrayEquals(Base64.getDecoder().decode(NUMPY_2X3_F4), Files.readAllBytes(file));
  }

  @Test
  void float64IsNarrowed() throws IOException {
    ByteBuffer data = le(16).putDouble(0.1).putDouble(-3e38);
    Path file = npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", data);

    FloatMatrix m = NpyFiles.readFloatMatrix(file);

    assertArrayEquals(new float[] {0.1f, -3e38f}, m.data());
  }

  @Test
  void oneDimensionalArrayIsOneRow() throws IOException {
    ByteBuffer data = le(12).putFloat(1).putFloat(2).putFloat(3);
    Path file = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data);

    FloatMatrix m = NpyFiles.readFloatMatrix(file);

    assertEquals(1, m.rows());
    assertArrayEquals(new float[] {1, 2, 3}, m.data());
  }

  @Test
  void versions2And3HaveAFourByteHeaderLength() throws IOException {
    for (int version : new int[] {2, 3}) {
      ByteBuffer data = le(8).putFloat(4).putFloat(5);
      Path file = npy(version, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }", data);

      FloatMatrix m = NpyFiles.readFloatMatrix(file);

      assertEquals(2, m.rows(), "version " + version);
      assertArrayEquals(new float[] {4, 5}, m.data(), "version " + version);
    }
  }

  @Test
  void bigEndianFloats() throws IOException {
    ByteBuffer data = ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putFloat(2.5f);
    Path file = npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1, 1), }", data);
    assertArrayEquals(new float[] {2.5f}, NpyFiles.readFloatMatrix(file).data());
  }

  @Test
  void badMagic() throws IOException {
    Path file = Files.writeString(dir.resolve("text.npy"), "x,y\n1,2\n");
    assertMalformed(file, "bad magic: not a NumPy .npy file", () -> NpyFiles.readFloatMatrix(file));
  }

  @Test
  void fortranOrder() throws IOException {
    Path file = npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", le(16));
    assertMalformed(file, "fortran_order is True: only C order is supported",
        () -> NpyFiles.readFloatMatrix(file));
  }

  @Test
  void unsupportedDtype() throws IOException {
    Path file = npy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", le(16));
    assertMalformed(file, "unsupported dtype '<i4'", () -> NpyFiles.readFloatMatrix(file));
  }

  @Test
  void threeDimensionalShape() throws IOException {
    Path file = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }", le(32));
    assertMalformed(file, "shape (2, 2, 2) has 3 dimensions", () -> NpyFiles.readFloatMatrix(file));
  }

  @Test
  void truncatedData() throws IOException {
    Path file = dir.resolve("cut.npy");
    NpyFiles.writeFloatMatrix(file, TexmexFilesTest.randomFloats(new Random(3), 10, 7));
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length - 5));

    assertMalformed(file, "truncated: shape (10, 7) of <f4 needs 280 data bytes, the file has 275",
        () -> NpyFiles.readFloatMatrix(file));
  }

  @Test
  void truncatedHeader() throws IOException {
    Path file = dir.resolve("cut.npy");
    NpyFiles.writeFloatMatrix(file, TexmexFilesTest.randomFloats(new Random(3), 10, 7));
    Files.write(file, Arrays.copyOf(Files.readAllBytes(file), 40));

    assertMalformed(file, "truncated header", () -> NpyFiles.readFloatMatrix(file));
  }

  @Test
  void missingFile() {
    Path file = dir.resolve("missing.npy");
    assertMalformed(file, "no such file", () -> NpyFiles.readFloatMatrix(file));
  }

  /** A .npy file with the given version, header dict (padded as NumPy does) and data. */
  private Path npy(int version, String dict, ByteBuffer data) throws IOException {
    int lengthBytes = version == 1 ? 2 : 4;
    int unpadded = 6 + 2 + lengthBytes + dict.length() + 1;
    String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
    ByteBuffer pre = le(6 + 2 + lengthBytes);
    pre.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'}).put((byte) version).put((byte) 0);
    if (version == 1) {
      pre.putShort((short) header.length());
    } else {
      pre.putInt(header.length());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(pre.array());
    out.write(header.getBytes(StandardCharsets.ISO_8859_1));
    out.write(data.array());
    return Files.write(dir.resolve("v" + version + ".npy"), out.toByteArray());
  }

  private static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }
}
