package dev.codebook.index.vector;

import java.util.Objects;

/**
 * A dense row-major matrix of float32 vectors in one array, the layout the kernels scan.
 *
 * @param rows number of vectors
 * @param dim dimension of each vector
 * @param data {@code rows * dim} values, row {@code i} at {@code [i*dim, (i+1)*dim)}
 */
public record FloatMatrix(int rows, int dim, float[] data) {

  public FloatMatrix {
    Objects.requireNonNull(data, "data");
    if (rows < 0 || dim <= 0) {
      throw new IllegalArgumentException("bad shape: " + rows + " x " + dim);
    }
    if ((long) rows * dim != data.length) {
      throw new IllegalArgumentException(
          "data length " + data.length + " != rows*dim = " + rows + "*" + dim);
    }
  }

  public static FloatMatrix allocate(int rows, int dim) {
    return new FloatMatrix(rows, dim, new float[Math.multiplyExact(rows, dim)]);
  }

  /** Offset of row {@code i} in {@link #data()}. */
  public int offset(int i) {
    return i * dim;
  }

  /** A copy of row {@code i}. */
  public float[] row(int i) {
    Objects.checkIndex(i, rows);
    float[] out = new float[dim];
    System.arraycopy(data, i * dim, out, 0, dim);
    return out;
  }

  /** The first {@code n} rows (a copy). */
  public FloatMatrix head(int n) {
    if (n < 0 || n > rows) {
      throw new IllegalArgumentException("head(" + n + ") of " + rows + " rows");
    }
    return slice(0, n);
  }

  /** Rows {@code [from, to)} (a copy). */
  public FloatMatrix slice(int from, int to) {
    Objects.checkFromToIndex(from, to, rows);
    float[] out = new float[(to - from) * dim];
    System.arraycopy(data, from * dim, out, 0, out.length);
    return new FloatMatrix(to - from, dim, out);
  }

  /** Bytes held by the values. */
  public long bytes() {
    return 4L * data.length;
  }
}
