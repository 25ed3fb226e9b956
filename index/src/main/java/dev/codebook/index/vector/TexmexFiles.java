package dev.codebook.index.vector;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * Reads and writes the TEXMEX vector formats of the SIFT1M/GIST1M/BIGANN corpora.
 *
 * <p>A file is a sequence of records, one per vector, with no header or footer:
 *
 * <pre>
 *   record := dim:int32-LE, value[dim]
 *   .fvecs: value = float32-LE    .bvecs: value = uint8    .ivecs: value = int32-LE
 * </pre>
 *
 * Every record has the same {@code dim}, so the file length must be a whole number of
 * {@code 4 + dim * sizeof(value)} byte records; the readers check that and every record's {@code
 * dim} before trusting the data.
 */
public final class TexmexFiles {

  /** Largest dimension accepted: far above any real embedding, small enough to catch garbage. */
  public static final int MAX_DIM = 1 << 20;

  private TexmexFiles() {}

  /** Reads a {@code .fvecs} file of float32 vectors. */
  public static FloatMatrix readFvecs(Path file) throws IOException {
    try (FileChannel ch = ChannelReads.open(file)) {
      Shape s = shape(ch, file, Float.BYTES);
      float[] data = new float[ChannelReads.checkedLength(file, s.rows, s.dim)];
      forEachBatch(ch, file, s, (buf, at, row) -> {
        buf.position(at + Integer.BYTES);
        buf.asFloatBuffer().get(data, row * s.dim, s.dim);
      });
      return new FloatMatrix(s.rows, s.dim, data);
    }
  }

  /** Reads a {@code .bvecs} file of uint8 vectors, widening each byte to a float in [0, 255]. */
  public static FloatMatrix readBvecs(Path file) throws IOException {
    try (FileChannel ch = ChannelReads.open(file)) {
      Shape s = shape(ch, file, Byte.BYTES);
      float[] data = new float[ChannelReads.checkedLength(file, s.rows, s.dim)];
      forEachBatch(ch, file, s, (buf, at, row) -> {
        int from = at + Integer.BYTES;
        int to = row * s.dim;
        for (int j = 0; j < s.dim; j++) {
          data[to + j] = buf.get(from + j) & 0xFF;
        }
      });
      return new FloatMatrix(s.rows, s.dim, data);
    }
  }

  /** Reads a {@code .ivecs} file of int32 vectors (typically ground-truth neighbor ids). */
  public static IntMatrix readIvecs(Path file) throws IOException {
    try (FileChannel ch = ChannelReads.open(file)) {
      Shape s = shape(ch, file, Integer.BYTES);
      int[] data = new int[ChannelReads.checkedLength(file, s.rows, s.dim)];
      forEachBatch(ch, file, s, (buf, at, row) -> {
        buf.position(at + Integer.BYTES);
        buf.asIntBuffer().get(data, row * s.dim, s.dim);
      });
      return new IntMatrix(s.rows, s.dim, data);
    }
  }

  /**
   * Writes {@code m} as a {@code .fvecs} file, replacing any existing file. A matrix with no rows
   * gives an empty file, which the readers reject: the format cannot record the dimension of zero
   * vectors.
   */
  public static void writeFvecs(Path file, FloatMatrix m) throws IOException {
    Objects.requireNonNull(m, "m");
    write(file, m.rows(), m.dim(), Float.BYTES, (buf, row) -> {
      buf.asFloatBuffer().put(m.data(), m.offset(row), m.dim());
      buf.position(buf.position() + m.dim() * Float.BYTES);
    });
  }

  /** Writes {@code m} as an {@code .ivecs} file, replacing any existing file (see writeFvecs). */
  public static void writeIvecs(Path file, IntMatrix m) throws IOException {
    Objects.requireNonNull(m, "m");
    write(file, m.rows(), m.cols(), Integer.BYTES, (buf, row) -> {
      buf.asIntBuffer().put(m.data(), m.offset(row), m.cols());
      buf.position(buf.position() + m.cols() * Integer.BYTES);
    });
  }

  /** The layout of a file, checked against its length before anything is allocated. */
  private record Shape(int rows, int dim, int recordBytes) {}

  /** Decodes the record at {@code buf[at..]}, which holds file row {@code row}. */
  private interface RecordReader {
    void read(ByteBuffer buf, int at, int row);
  }

  /** Encodes file row {@code row} at the buffer's position, advancing it past the values. */
  private interface RecordWriter {
    void write(ByteBuffer buf, int row);
  }

  private static Shape shape(FileChannel ch, Path file, int valueBytes) throws IOException {
    long size = ch.size();
    if (size == 0) {
      throw new MalformedVectorFileException(file, "empty file");
    }
    if (size < Integer.BYTES) {
      throw new MalformedVectorFileException(
          file, "truncated: " + size + " bytes is shorter than one record header");
    }
    int dim = dimAt(ch, 0, file);
    if (dim <= 0 || dim > MAX_DIM) {
      throw new MalformedVectorFileException(
          file,
          "first record has dim " + dim + ", outside [1, " + MAX_DIM + "] (not a "
              + extensionFor(valueBytes) + " file?)");
    }
    int recordBytes = Integer.BYTES + dim * valueBytes;
    if (size % recordBytes != 0) {
      // A short last record, or a record of another dim that shifted the rest: name the latter if
      // that is what happened, since "truncated" would send the user looking in the wrong place.
      checkDims(ch, file, dim, recordBytes, size);
      throw new MalformedVectorFileException(
          file,
          "truncated: " + size + " bytes is not a whole number of " + recordBytes
              + "-byte records (dim " + dim + ")");
    }
    long rows = size / recordBytes;
    ChannelReads.checkedLength(file, rows, dim);
    return new Shape((int) rows, dim, recordBytes);
  }

  /** Checks the dim of every record header that lies within the file's {@code size} bytes. */
  private static void checkDims(FileChannel ch, Path file, int dim, int recordBytes, long size)
      throws IOException {
    for (long r = 1; r * recordBytes + Integer.BYTES <= size; r++) {
      int d = dimAt(ch, r * recordBytes, file);
      if (d != dim) {
        throw inconsistentDim(file, r, d, dim);
      }
    }
  }

  private static int dimAt(FileChannel ch, long pos, Path file) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    ChannelReads.readFully(ch, b, pos, file);
    return b.getInt(0);
  }

  private static MalformedVectorFileException inconsistentDim(Path file, long row, int d, int dim) {
    return new MalformedVectorFileException(
        file, "record " + row + " has dim " + d + " but record 0 has dim " + dim);
  }

  /** Reads whole records through one bounded buffer and hands each to {@code reader}. */
  private static void forEachBatch(FileChannel ch, Path file, Shape s, RecordReader reader)
      throws IOException {
    int perBatch = Math.max(1, ChannelReads.BUFFER_BYTES / s.recordBytes);
    ByteBuffer buf =
        ByteBuffer.allocate(Math.min(perBatch, Math.max(s.rows, 1)) * s.recordBytes)
            .order(ByteOrder.LITTLE_ENDIAN);
    for (int row = 0; row < s.rows; row += perBatch) {
      int n = Math.min(perBatch, s.rows - row);
      buf.clear().limit(n * s.recordBytes);
      ChannelReads.readFully(ch, buf, (long) row * s.recordBytes, file);
      for (int i = 0; i < n; i++) {
        int at = i * s.recordBytes;
        int d = buf.getInt(at);
        if (d != s.dim) {
          throw inconsistentDim(file, row + i, d, s.dim);
        }
        reader.read(buf, at, row + i);
      }
    }
  }

  private static void write(Path file, int rows, int dim, int valueBytes, RecordWriter writer)
      throws IOException {
    int recordBytes = Integer.BYTES + dim * valueBytes;
    int perBatch = Math.max(1, ChannelReads.BUFFER_BYTES / recordBytes);
    ByteBuffer buf =
        ByteBuffer.allocate(Math.min(perBatch, Math.max(rows, 1)) * recordBytes)
            .order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      for (int row = 0; row < rows; row += perBatch) {
        int n = Math.min(perBatch, rows - row);
        buf.clear();
        for (int i = 0; i < n; i++) {
          buf.putInt(dim);
          writer.write(buf, row + i);
        }
        buf.flip();
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
      }
    }
  }

  private static String extensionFor(int valueBytes) {
    return valueBytes == 1 ? ".bvecs" : ".fvecs/.ivecs";
  }
}
