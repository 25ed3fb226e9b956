package dev.codebook.index.vector;

import java.util.Objects;

/**
 * A dense row-major matrix of ints in one array, such as the ground-truth neighbor ids of a set of
 * queries (row {@code i} holds the ids for query {@code i}, best first).
 *
 * @param rows number of rows
 * @param cols number of values in each row
 * @param data {@code rows * cols} values, row {@code i} at {@code [i*cols, (i+1)*cols)}
 */
public record IntMatrix(int rows, int cols, int[] data) {

  public IntMatrix {
    Objects.requireNonNull(data, "data");
    if (rows < 0 || cols <= 0) {
      throw new IllegalArgumentException("bad shape: " + rows + " x " + cols);
    }
    if ((long) rows * cols != data.length) {
      throw new IllegalArgumentException(
          "data length " + data.length + " != rows*cols = " + rows + "*" + cols);
    }
  }

  public static IntMatrix allocate(int rows, int cols) {
    return new IntMatrix(rows, cols, new int[Math.multiplyExact(rows, cols)]);
  }

  /** The value at {@code (row, col)}. */
  public int get(int row, int col) {
    Objects.checkIndex(row, rows);
    Objects.checkIndex(col, cols);
    return data[row * cols + col];
  }

  /** Offset of row {@code i} in {@link #data()}. */
  public int offset(int i) {
    return i * cols;
  }

  /** A copy of row {@code i}. */
  public int[] row(int i) {
    Objects.checkIndex(i, rows);
    int[] out = new int[cols];
    System.arraycopy(data, i * cols, out, 0, cols);
    return out;
  }

  /** The first {@code n} rows (a copy). */
  public IntMatrix head(int n) {
    if (n < 0 || n > rows) {
      throw new IllegalArgumentException("head(" + n + ") of " + rows + " rows");
    }
    int[] out = new int[n * cols];
    System.arraycopy(data, 0, out, 0, out.length);
    return new IntMatrix(n, cols, out);
  }
}
