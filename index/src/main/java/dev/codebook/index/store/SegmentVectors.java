package dev.codebook.index.store;

import dev.codebook.index.ivf.MappedRawVectors;
import dev.codebook.index.ivf.RawVectors;
import dev.codebook.index.vector.FloatMatrix;
import java.nio.FloatBuffer;

/**
 * The vectors of a segment's {@code _S.vec} file (see {@link SegmentWriter}), memory-mapped in
 * chunks of at most {@link #CHUNK_BYTES}: exact search, re-ranking (as the {@link RawVectors} of
 * an encoded segment's RFlat), get and merges read them. Immutable; safe for concurrent readers.
 */
public final class SegmentVectors implements RawVectors {

  /** Bytes per mapping: 1 GiB, below the 2 GiB limit of a buffer. */
  static final long CHUNK_BYTES = 1L << 30;

  private final int dim;
  private final int size;
  private final FloatBuffer[] chunks;
  private final int rowsPerChunk;
  /** Where {@link #prefetch} leaves its loads' sum; never read. */
  private float sink;

  SegmentVectors(int dim, int size, FloatBuffer[] chunks, int rowsPerChunk) {
    this.dim = dim;
    this.size = size;
    this.chunks = chunks;
    this.rowsPerChunk = rowsPerChunk;
  }

  /** Rows per mapping at dimension {@code dim}. */
  static int rowsPerChunk(int dim) {
    return (int) Math.max(1, CHUNK_BYTES / (4L * dim));
  }

  @Override
  public int dimension() {
    return dim;
  }

  @Override
  public int size() {
    return size;
  }

  /** Copies row {@code row}'s vector as upserted into {@code dst}. */
  public void vector(int row, float[] dst, int offset) {
    chunks[row / rowsPerChunk].get((row % rowsPerChunk) * dim, dst, offset, dim);
  }

  /** Row {@code row}'s vector as upserted; a copy. */
  public float[] vector(int row) {
    float[] v = new float[dim];
    vector(row, v, 0);
    return v;
  }

  /** The vectors of {@code rows}, in that order, as upserted. */
  public FloatMatrix rows(int[] rows) {
    float[] out = new float[Math.multiplyExact(rows.length, dim)];
    for (int i = 0; i < rows.length; i++) {
      vector(rows[i], out, i * dim);
    }
    return new FloatMatrix(rows.length, dim, out);
  }

  @Override
  public void add(float[] data, int n) {
    throw new UnsupportedOperationException("a segment is immutable");
  }

  @Override
  public void get(int id, float[] dst, int dstOffset) {
    vector(id, dst, dstOffset);
  }

  @Override
  public void prefetch(int[] ids, int n) {
    sink += MappedRawVectors.touch(chunks, rowsPerChunk, dim, ids, n);
  }

  /** The segment's vectors as written: the index adapts its query and scores instead. */
  @Override
  public boolean original() {
    return true;
  }

  @Override
  public void close() {}
}
