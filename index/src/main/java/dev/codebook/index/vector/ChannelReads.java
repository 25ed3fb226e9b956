package dev.codebook.index.vector;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Positional bulk reads shared by the file readers. Values go from the file through one bounded
 * buffer straight into the caller's array, so reading an n x d matrix needs the n x d array and
 * no second copy of the data (a memory map would also work, but a single map is capped at 2 GB).
 */
final class ChannelReads {

  /** Size of the transfer buffer: large enough to amortize system calls, small next to the data. */
  static final int BUFFER_BYTES = 1 << 20;

  /** Largest array Java reliably allocates (a few header words below Integer.MAX_VALUE). */
  static final int MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

  private ChannelReads() {}

  /**
   * Opens {@code file} for reading, turning the common ways of pointing at the wrong path into a
   * {@link MalformedVectorFileException} rather than a bare {@link NoSuchFileException}.
   */
  static FileChannel open(Path file) throws IOException {
    if (Files.isDirectory(file)) {
      throw new MalformedVectorFileException(file, "is a directory, not a vector file");
    }
    try {
      return FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new MalformedVectorFileException(file, "no such file", e);
    }
  }

  /**
   * Returns {@code rows * cols} as an int, or throws naming the shape if it is more values than
   * one Java array can hold.
   */
  static int checkedLength(Path file, long rows, long cols) throws MalformedVectorFileException {
    try {
      long n = Math.multiplyExact(rows, cols);
      if (n <= MAX_ARRAY_LENGTH) {
        return (int) n;
      }
    } catch (ArithmeticException e) {
      // Falls through to the same message.
    }
    throw new MalformedVectorFileException(
        file,
        "too large: " + rows + " x " + cols + " values do not fit in one Java array (at most "
            + MAX_ARRAY_LENGTH + ")");
  }

  /**
   * Fills {@code buf} (position to limit) from the file at {@code pos}.
   *
   * @throws MalformedVectorFileException if the file ends first
   */
  static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path file) throws IOException {
    long at = pos;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, at);
      if (n < 0) {
        throw new MalformedVectorFileException(
            file,
            "truncated: needed " + buf.remaining() + " more bytes at offset " + at
                + " but the file ends (" + ch.size() + " bytes)");
      }
      at += n;
    }
  }

  /**
   * Reads {@code count} floats stored at {@code pos} as float32 (or float64, narrowed, if {@code
   * float64}) in {@code order} into {@code dst[off..off+count)}.
   */
  static void readFloats(
      FileChannel ch, long pos, ByteOrder order, boolean float64,
      float[] dst, int off, int count, Path file) throws IOException {
    int size = float64 ? Double.BYTES : Float.BYTES;
    ByteBuffer buf = buffer(count, size, order);
    int perRead = buf.capacity() / size;
    long at = pos;
    int done = 0;
    while (done < count) {
      int n = Math.min(perRead, count - done);
      buf.clear().limit(n * size);
      readFully(ch, buf, at, file);
      buf.flip();
      if (float64) {
        for (int i = 0; i < n; i++) {
          dst[off + done + i] = (float) buf.getDouble(i * Double.BYTES);
        }
      } else {
        buf.asFloatBuffer().get(dst, off + done, n);
      }
      at += (long) n * size;
      done += n;
    }
  }

  /**
   * Reads {@code count} ints stored at {@code pos} as int32 (or int64, if {@code int64}) in {@code
   * order} into {@code dst[off..off+count)}.
   *
   * @param what names the values in the error for an int64 that does not fit in an int
   */
  static void readInts(
      FileChannel ch, long pos, ByteOrder order, boolean int64,
      int[] dst, int off, int count, Path file, String what) throws IOException {
    int size = int64 ? Long.BYTES : Integer.BYTES;
    ByteBuffer buf = buffer(count, size, order);
    int perRead = buf.capacity() / size;
    long at = pos;
    int done = 0;
    while (done < count) {
      int n = Math.min(perRead, count - done);
      buf.clear().limit(n * size);
      readFully(ch, buf, at, file);
      buf.flip();
      if (int64) {
        for (int i = 0; i < n; i++) {
          dst[off + done + i] = toInt(buf.getLong(i * Long.BYTES), file, what);
        }
      } else {
        buf.asIntBuffer().get(dst, off + done, n);
      }
      at += (long) n * size;
      done += n;
    }
  }

  /** Narrows an int64 value read from {@code file}, or throws naming it. */
  static int toInt(long v, Path file, String what) throws MalformedVectorFileException {
    if (v != (int) v) {
      throw new MalformedVectorFileException(
          file, what + ": value " + v + " does not fit in an int");
    }
    return (int) v;
  }

  private static ByteBuffer buffer(int count, int size, ByteOrder order) {
    int bytes = (int) Math.min((long) count * size, BUFFER_BYTES);
    return ByteBuffer.allocate(Math.max(bytes, size)).order(order);
  }
}
