package dev.codebook.server.collection;

import dev.codebook.index.vector.FloatMatrix;
import java.util.Arrays;

/**
 * The values of a collection's vectors as upserted (not normalized), by ordinal, in one growing
 * row-major array: what GetVectors returns and what BuildIndex trains on. Not thread-safe; the
 * owning {@link Collection} guards it with its lock.
 *
 * <p>In memory for now, so at most {@code (2^31 - 8) / dimension} vectors; a durable collection
 * keeps them in a memory-mapped file instead.
 */
final class VectorStore {

  private static final int MAX_FLOATS = Integer.MAX_VALUE - 8;

  private final int dim;
  private float[] data;
  private int rows;

  VectorStore(int dim) {
    this.dim = dim;
    this.data = new float[0];
  }

  /** A store holding {@code m}'s rows; the array is taken, not copied. */
  static VectorStore wrap(FloatMatrix m) {
    VectorStore s = new VectorStore(m.dim());
    s.data = m.data();
    s.rows = m.rows();
    return s;
  }

  int rows() {
    return rows;
  }

  /** Appends every row of {@code m}. */
  void append(FloatMatrix m) {
    append(m.data(), 0, m.rows());
  }

  /** Appends {@code n} rows of {@code src} starting at float offset {@code from}. */
  void append(float[] src, int from, int n) {
    ensureCapacity(n);
    System.arraycopy(src, from, data, rows * dim, n * dim);
    rows += n;
  }

  /**
   * Makes room for {@code more} rows, so that a following {@link #append} cannot fail.
   *
   * @throws CapacityExceededException past the in-memory limit
   */
  void ensureCapacity(int more) {
    long needed = (rows + (long) more) * dim;
    if (needed > MAX_FLOATS) {
      throw new CapacityExceededException("a collection of dimension " + dim + " holds at most "
          + (MAX_FLOATS / dim) + " vectors in memory, asked for " + (rows + (long) more));
    }
    if (needed > data.length) {
      long grown = Math.max(needed, Math.min(MAX_FLOATS, data.length * 3L / 2));
      data = Arrays.copyOf(data, (int) grown);
    }
  }

  /** A copy of row {@code ord}. */
  float[] row(int ord) {
    return Arrays.copyOfRange(data, ord * dim, (ord + 1) * dim);
  }

  /** The rows {@code ords}, in that order, as a new matrix. */
  FloatMatrix rows(int[] ords) {
    float[] out = new float[Math.multiplyExact(ords.length, dim)];
    for (int i = 0; i < ords.length; i++) {
      System.arraycopy(data, ords[i] * dim, out, i * dim, dim);
    }
    return new FloatMatrix(ords.length, dim, out);
  }
}
