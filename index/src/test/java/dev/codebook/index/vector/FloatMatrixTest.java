package dev.codebook.index.vector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class FloatMatrixTest {

  private final FloatMatrix m = new FloatMatrix(3, 2, new float[] {1, 2, 3, 4, 5, 6});

  @Test
  void aSliceCopiesItsRows() {
    FloatMatrix s = m.slice(1, 3);
    assertEquals(2, s.rows());
    assertArrayEquals(new float[] {3, 4, 5, 6}, s.data());
    s.data()[0] = 9;
    assertEquals(3, m.data()[2], "the slice is a copy");
    assertEquals(0, m.slice(2, 2).rows());
    assertArrayEquals(new float[] {1, 2}, m.head(1).data());
  }

  @Test
  void rowsOutsideTheMatrixAreRefused() {
    assertThrows(IndexOutOfBoundsException.class, () -> m.slice(2, 4));
    assertThrows(IndexOutOfBoundsException.class, () -> m.slice(2, 1));
    assertThrows(IllegalArgumentException.class, () -> m.head(4));
  }
}
