package dev.codebook.index.ivf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * {@link RawVectors} in a file of little-endian float32 rows, read through memory mappings: the
 * full vectors cost page cache, not heap, and only the candidates being re-ranked are touched.
 *
 * <p>File layout: {@code size * dimension} floats, row {@code i} at byte {@code 4 * i *
 * dimension}, nothing else (the index that owns the file records dimension and size). A mapping
 * is at most {@value #CHUNK_BYTES} bytes (a {@code MappedByteBuffer} is int-indexed), cut at row
 * boundaries. {@link #add} appends and remaps; readers use the chunk array they loaded, and old
 * mappings are released by the garbage collector, so none is unmapped under a reader.
 */
public final class MappedRawVectors implements RawVectors {

  /** Bytes per mapping, below the 2 GiB limit of a buffer. */
  static final long CHUNK_BYTES = 1L << 30;

  private final Path file;
  private final int dim;
  private final int rowsPerChunk;
  private final FileChannel channel;
  private volatile FloatBuffer[] chunks = new FloatBuffer[0];
  private volatile int size;
  /** Where {@link #prefetch} leaves its loads' sum; never read. */
  private float sink;

  /** Floats in a 64-byte cache line: {@link #touch} reads one of each. */
  static final int FLOATS_PER_LINE = 16;

  /** Creates (or truncates) {@code file}. */
  public MappedRawVectors(Path file, int dim) {
    this(file, dim, CHUNK_BYTES);
  }

  MappedRawVectors(Path file, int dim, long chunkBytes) {
    this.file = file;
    this.dim = dim;
    this.rowsPerChunk = (int) Math.max(1, chunkBytes / (4L * dim));
    try {
      this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create raw vector file " + file, e);
    }
  }

  public Path file() {
    return file;
  }

  @Override
  public int dimension() {
    return dim;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public synchronized void add(float[] data, int n) {
    try {
      ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
      long pos = 4L * size * dim;
      int total = Math.multiplyExact(n, dim);
      for (int i = 0; i < total; ) {
        buf.clear();
        int chunk = Math.min(total - i, buf.capacity() / 4);
        buf.asFloatBuffer().put(data, i, chunk);
        buf.limit(chunk * 4);
        while (buf.hasRemaining()) {
          pos += channel.write(buf, pos);
        }
        i += chunk;
      }
      int newSize = size + n;
      int nChunks = (newSize + rowsPerChunk - 1) / rowsPerChunk;
      FloatBuffer[] next = Arrays.copyOf(chunks, nChunks);
      // Remap the last old chunk (it grew) and any new ones.
      for (int c = Math.max(0, chunks.length - 1); c < nChunks; c++) {
        long first = (long) c * rowsPerChunk;
        long rows = Math.min(rowsPerChunk, newSize - first);
        next[c] = channel.map(FileChannel.MapMode.READ_ONLY, 4L * first * dim, 4L * rows * dim)
            .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      }
      chunks = next;
      size = newSize;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to raw vector file " + file, e);
    }
  }

  @Override
  public void get(int id, float[] dst, int dstOffset) {
    FloatBuffer chunk = chunks[id / rowsPerChunk];
    chunk.get((id % rowsPerChunk) * dim, dst, dstOffset, dim);
  }

  @Override
  public void prefetch(int[] ids, int n) {
    sink += touch(chunks, rowsPerChunk, dim, ids, n);
  }

  /**
   * Reads one float per 64-byte line of rows {@code ids[0..n)} of {@code chunks} and returns
   * their sum, which the caller must keep (so the loads are not optimized away). The loads are
   * independent of each other, so the CPU overlaps their cache misses.
   */
  public static float touch(FloatBuffer[] chunks, int rowsPerChunk, int dim, int[] ids, int n) {
    float sink = 0;
    for (int i = 0; i < n; i++) {
      int id = ids[i];
      FloatBuffer chunk = chunks[id / rowsPerChunk];
      int base = (id % rowsPerChunk) * dim;
      for (int j = 0; j < dim; j += FLOATS_PER_LINE) {
        sink += chunk.get(base + j);
      }
      sink += chunk.get(base + dim - 1);
    }
    return sink;
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
