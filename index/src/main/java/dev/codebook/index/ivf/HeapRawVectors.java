package dev.codebook.index.ivf;

import java.util.Arrays;

/** {@link RawVectors} in one growing float array on the Java heap. */
public final class HeapRawVectors implements RawVectors {

  private final int dim;
  private float[] data = new float[0];
  private int size;
  /** Where {@link #prefetch} leaves its loads' sum; never read. */
  private float sink;

  public HeapRawVectors(int dim) {
    this.dim = dim;
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
  public void add(float[] src, int n) {
    long needed = (long) (size + n) * dim;
    if (needed > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("heap raw vectors are full; use MappedRawVectors");
    }
    if (needed > data.length) {
      data = Arrays.copyOf(data, (int) Math.max(needed, Math.min(Integer.MAX_VALUE - 8L,
          data.length * 3L / 2)));
    }
    System.arraycopy(src, 0, data, size * dim, n * dim);
    size += n;
  }

  @Override
  public void get(int id, float[] dst, int dstOffset) {
    System.arraycopy(data, id * dim, dst, dstOffset, dim);
  }

  @Override
  public void prefetch(int[] ids, int n) {
    sink += touch(data, dim, ids, n);
  }

  /**
   * Reads one float per 64-byte line of rows {@code ids[0..n)} of {@code data} (rows of {@code
   * dim}) and the last float of each row (a row need not start on a line), and returns their sum,
   * which the caller must keep so the loads are not optimized away: their misses then overlap
   * instead of stalling the scoring that follows one row at a time.
   */
  static float touch(float[] data, int dim, int[] ids, int n) {
    float sum = 0;
    for (int i = 0; i < n; i++) {
      int base = ids[i] * dim;
      for (int j = 0; j < dim; j += MappedRawVectors.FLOATS_PER_LINE) {
        sum += data[base + j];
      }
      sum += data[base + dim - 1];
    }
    return sum;
  }

  @Override
  public void close() {}
}
