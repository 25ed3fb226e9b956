package dev.codebook.index.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.vector.FloatMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A rotation is an orthogonal matrix: it keeps lengths and dot products, its transpose undoes
 * it, and rotating in bulk gives exactly what rotating one vector at a time gives.
 */
class OpqRotationTest {

  static double dot(float[] a, int aOff, float[] b, int bOff, int d) {
    double s = 0;
    for (int j = 0; j < d; j++) {
      s += (double) a[aOff + j] * b[bOff + j];
    }
    return s;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 13, 207, 384})
  void aRandomRotationIsOrthogonal(int d) {
    float[] r = OpqRotation.random(d, 11).matrix();
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        assertEquals(i == j ? 1 : 0, dot(r, i * d, r, j * d, d), 1e-4, "(R R^T)[" + i + "][" + j + "]");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 13, 207})
  void applyTransposeUndoesApply(int d) {
    OpqRotation r = OpqRotation.random(d, 3);
    FloatMatrix x = ProductQuantizerTest.gaussian(4, 20, d);
    float[] y = new float[d];
    float[] back = new float[d];
    for (int i = 0; i < x.rows(); i++) {
      r.apply(x.data(), x.offset(i), y, 0);
      r.applyTranspose(y, 0, back, 0);
      for (int j = 0; j < d; j++) {
        assertEquals(x.data()[x.offset(i) + j], back[j], 1e-4, "row " + i + " dim " + j);
      }
    }
  }

  @Test
  void rotationKeepsLengthsDotProductsAndDistances() {
    int d = 96;
    OpqRotation r = OpqRotation.random(d, 5);
    FloatMatrix x = ProductQuantizerTest.gaussian(6, 50, d);
    FloatMatrix y = r.applyAll(x, 2);
    for (int i = 0; i + 1 < x.rows(); i++) {
      double before = dot(x.data(), x.offset(i), x.data(), x.offset(i + 1), d);
      double after = dot(y.data(), y.offset(i), y.data(), y.offset(i + 1), d);
      assertEquals(before, after, 1e-3, "dot product of rows " + i + " and " + (i + 1));
      assertEquals(
          ProductQuantizerTest.squareDistance(x.data(), x.offset(i), x.data(), x.offset(i + 1), d),
          ProductQuantizerTest.squareDistance(y.data(), y.offset(i), y.data(), y.offset(i + 1), d),
          1e-3, "distance of rows " + i + " and " + (i + 1));
    }
  }

  @Test
  void theRotationMapsXToRX() {
    // A quarter turn in the (0, 1) plane: R = [[0, -1, 0], [1, 0, 0], [0, 0, 1]].
    OpqRotation r = new OpqRotation(3, new float[] {0, -1, 0, 1, 0, 0, 0, 0, 1});
    float[] out = new float[3];
    r.apply(new float[] {1, 2, 3}, 0, out, 0);
    assertArrayEquals(new float[] {-2, 1, 3}, out);
    r.applyTranspose(new float[] {-2, 1, 3}, 0, out, 0);
    assertArrayEquals(new float[] {1, 2, 3}, out);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 13, 207})
  void applyAllGivesTheFloatsOfApplyOnAnyNumberOfThreads(int d) {
    OpqRotation r = OpqRotation.random(d, 7);
    // 2 * APPLY_CHUNK + 3 rows: two full chunks and a last group shorter than four.
    FloatMatrix x = ProductQuantizerTest.gaussian(8, 2 * OpqRotation.APPLY_CHUNK + 3, d);
    float[] expected = new float[x.data().length];
    for (int i = 0; i < x.rows(); i++) {
      r.apply(x.data(), x.offset(i), expected, x.offset(i));
    }
    for (int threads : new int[] {1, 2, 3}) {
      assertArrayEquals(expected, r.applyAll(x, threads).data(), threads + " threads");
    }
    assertEquals(0, r.applyAll(FloatMatrix.allocate(0, d), 2).rows());
    // A slice at a time, starting anywhere (not on a chunk or a group of four), gives the same.
    float[] sliced = new float[x.data().length];
    int[] cuts = {0, 5, OpqRotation.APPLY_CHUNK + 2, x.rows() - 1, x.rows()};
    for (int c = 0; c + 1 < cuts.length; c++) {
      r.applyRows(x, cuts[c], cuts[c + 1], sliced, 2);
    }
    assertArrayEquals(expected, sliced);
  }

  @Test
  void theIdentityChangesNothing() {
    FloatMatrix x = ProductQuantizerTest.gaussian(9, 9, 13);
    assertArrayEquals(x.data(), OpqRotation.identity(13).applyAll(x, 2).data());
  }

  @Test
  void equalityIsByContentsAndTheSeedDecides() {
    OpqRotation a = OpqRotation.random(24, 1);
    assertEquals(a, OpqRotation.random(24, 1));
    assertEquals(a.hashCode(), OpqRotation.random(24, 1).hashCode());
    assertEquals(a, new OpqRotation(24, a.matrix()));
    assertNotEquals(a, OpqRotation.random(24, 2));
    assertNotEquals(a, OpqRotation.identity(24));
    assertEquals(24, a.dimension());
    float[] copy = a.matrix();
    copy[0] = 42;
    assertEquals(a, OpqRotation.random(24, 1), "matrix() returns a copy");
  }

  @Test
  void applyRowsWritesOnlyItsRowsAndNeedsAnotherArray() {
    OpqRotation r = OpqRotation.random(4, 3);
    FloatMatrix x = ProductQuantizerTest.gaussian(2, 10, 4);
    float[] out = new float[40];
    r.applyRows(x, 3, 6, out, 2);
    for (int i = 0; i < 40; i++) {
      assertEquals(i >= 12 && i < 24, out[i] != 0, "float " + i);
    }
    IllegalArgumentException e = assertThrows(
        IllegalArgumentException.class, () -> r.applyRows(x, 0, 10, new float[39], 1));
    assertEquals("rotation output must be another array of at least 40 floats, got 39",
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> r.applyRows(x, 0, 10, x.data(), 1));
    assertThrows(IndexOutOfBoundsException.class, () -> r.applyRows(x, 4, 11, out, 1));
  }

  @Test
  void badInputIsRejectedWithAClearMessage() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new OpqRotation(3, new float[8]));
    assertEquals("rotation: matrix has 8 floats, expected d*d = 3*3 = 9", e.getMessage());
    e = assertThrows(
        IllegalArgumentException.class,
        () -> new OpqRotation(2, new float[] {1, 0, 0, 2}));
    assertEquals(
        "rotation: matrix is not orthogonal, (R R^T)[1][1] = 4.0, expected 1.0", e.getMessage());
    e = assertThrows(
        IllegalArgumentException.class,
        () -> new OpqRotation(2, new float[] {1, 0, Float.NaN, 1}));
    assertTrue(e.getMessage().startsWith("rotation matrix has a non-finite value NaN"), e.getMessage());

    OpqRotation r = OpqRotation.random(4, 1);
    e = assertThrows(
        IllegalArgumentException.class, () -> r.applyAll(FloatMatrix.allocate(3, 5), 1));
    assertEquals("vector dimensions differ: 5!=4", e.getMessage());
    float[] v = new float[6];
    e = assertThrows(IllegalArgumentException.class, () -> r.apply(v, 0, v, 2));
    assertEquals("rotation input [0, 4) and output [2, 6) overlap", e.getMessage());
    assertThrows(IndexOutOfBoundsException.class, () -> r.apply(v, 3, new float[4], 0));
  }
}
