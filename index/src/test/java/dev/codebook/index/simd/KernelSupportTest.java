package dev.codebook.index.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The Vector API kernels agree with the scalar reference, and both with float64 math. */
class KernelSupportTest {

  private static final KernelSupport SCALAR = KernelProvider.scalar();
  private static final KernelSupport PANAMA = KernelProvider.panama();

  private static float[] random(Random r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  /** Float sums in different orders differ by rounding; bound it by the magnitude summed. */
  private static void assertClose(double expected, float actual, double magnitude) {
    double tol = 1e-5 * Math.max(1.0, magnitude);
    assertEquals(expected, actual, tol, () -> "expected " + expected + " got " + actual);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 7, 13, 15, 16, 17, 31, 64, 65, 207, 384, 702, 1024, 1537})
  void dotAndL2AgreeWithFloat64OnOddSizes(int n) {
    Random r = new Random(31L * n);
    float[] a = random(r, n + 9), b = random(r, n + 5);
    int aOff = 9, bOff = 5;
    double dot = 0, l2 = 0, mag = 0;
    for (int i = 0; i < n; i++) {
      dot += (double) a[aOff + i] * b[bOff + i];
      double d = (double) a[aOff + i] - b[bOff + i];
      l2 += d * d;
      mag += Math.abs((double) a[aOff + i] * b[bOff + i]);
    }
    for (KernelSupport k : new KernelSupport[] {SCALAR, PANAMA}) {
      assertClose(dot, k.dotProduct(a, aOff, b, bOff, n), mag);
      assertClose(l2, k.squareDistance(a, aOff, b, bOff, n), l2);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 13, 16, 207, 384, 702})
  void fourQueryKernelsMatchTheSingleQueryOnes(int n) {
    Random r = new Random(7L * n);
    float[] queries = random(r, 4 * n + 3);
    float[] v = random(r, n + 2);
    int[] q = {3, 3 + n, 3 + 2 * n, 3 + 3 * n};
    for (KernelSupport k : new KernelSupport[] {SCALAR, PANAMA}) {
      float[] dots = new float[6], l2s = new float[6];
      k.dotProduct4(queries, q[0], q[1], q[2], q[3], v, 2, n, dots, 1);
      k.squareDistance4(queries, q[0], q[1], q[2], q[3], v, 2, n, l2s, 2);
      for (int j = 0; j < 4; j++) {
        float dot = SCALAR.dotProduct(queries, q[j], v, 2, n);
        float l2 = SCALAR.squareDistance(queries, q[j], v, 2, n);
        assertEquals(dot, dots[1 + j], 1e-4f * Math.max(1, Math.abs(dot)) * (float) Math.sqrt(n));
        assertEquals(l2, l2s[2 + j], 1e-5f * Math.max(1, l2));
      }
    }
  }

  @Test
  void zeroLengthIsZero() {
    float[] a = {1f, 2f};
    assertEquals(0f, PANAMA.dotProduct(a, 0, a, 0, 0));
    assertEquals(0f, SCALAR.squareDistance(a, 0, a, 0, 0));
  }

  @Test
  void providerHonoursTheSwitch() {
    assertEquals("scalar", KernelProvider.select("scalar").name());
    assertEquals("panama", KernelProvider.select("panama").name());
    assertTrue(KernelProvider.select("auto").vectorBitSize() >= 128);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> KernelProvider.select("avx9000"));
    assertTrue(e.getMessage().contains("auto, scalar, panama"), e.getMessage());
  }

  @Test
  void selectedProviderIsTheOneAskedForOnTheCommandLine() {
    String asked = System.getProperty(KernelProvider.PROPERTY, "auto");
    String got = KernelProvider.get().name();
    if (!asked.equals("auto")) {
      assertEquals(asked, got);
    }
  }

  @Test
  void facadeRejectsMismatchedDimensions() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> VectorKernels.dotProduct(new float[768], new float[384]));
    assertEquals("vector dimensions differ: 768!=384", e.getMessage());
    assertThrows(
        IndexOutOfBoundsException.class,
        () -> VectorKernels.squareDistance(new float[10], 5, new float[10], 0, 6));
  }
}
