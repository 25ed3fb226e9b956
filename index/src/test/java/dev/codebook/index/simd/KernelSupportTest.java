package dev.codebook.index.simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
  @ValueSource(ints = {1, 3, 15, 16, 17, 31, 32, 33, 207, 384, 702, 1537})
  void dotProductOverNormIsTheCosineAgainstAnUnnormalizedVector(int n) {
    Random r = new Random(11L * n);
    float[] a = random(r, n + 4), b = random(r, n + 6);
    double dot = 0, norm2 = 0;
    for (int i = 0; i < n; i++) {
      dot += (double) a[4 + i] * b[6 + i];
      norm2 += (double) b[6 + i] * b[6 + i];
    }
    double expected = dot / Math.sqrt(norm2);
    for (KernelSupport k : new KernelSupport[] {SCALAR, PANAMA}) {
      // |a| ~ sqrt(n): the error scales with the magnitude of the summed products.
      assertEquals(expected, k.dotProductOverNorm(a, 4, b, 6, n), 1e-5 * Math.sqrt(n) + 1e-6,
          k.name());
    }
    for (KernelSupport k : new KernelSupport[] {SCALAR, PANAMA}) {
      assertEquals(0f, k.dotProductOverNorm(a, 4, new float[n], 0, n), k.name() + " zero vector");
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

  @ParameterizedTest
  @ValueSource(ints = {1, 3, 7, 15, 16, 17, 33, 63, 64, 65, 256, 300})
  void transposedKernelsMatchFloat64OnOddCounts(int count) {
    for (int dim : new int[] {1, 2, 5, 12, 13, 32}) {
      Random r = new Random(97L * count + dim);
      float[] x = random(r, dim + 3);
      float[] t = random(r, dim * count + 5);
      for (KernelSupport k : new KernelSupport[] {SCALAR, PANAMA}) {
        float[] l2 = new float[count + 2], dots = new float[count + 1];
        k.squareDistancesTransposed(x, 3, t, 5, dim, count, l2, 2);
        k.dotProductsTransposed(x, 3, t, 5, dim, count, dots, 1);
        for (int c = 0; c < count; c++) {
          double dot = 0, dist = 0, mag = 0;
          for (int j = 0; j < dim; j++) {
            double a = x[3 + j], b = t[5 + j * count + c];
            dot += a * b;
            dist += (a - b) * (a - b);
            mag += Math.abs(a * b);
          }
          assertClose(dist, l2[2 + c], dist);
          assertClose(dot, dots[1 + c], mag);
        }
        assertEquals(0f, l2[0], k.name() + " wrote before its range");
        assertEquals(0f, dots[0], k.name() + " wrote before its range");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 16, 31, 32, 33, 48, 64, 80, 100, 256})
  void fourVectorTransposedDotProductsAddTheBias(int count) {
    for (int dim : new int[] {1, 4, 12, 13, 207}) {
      Random r = new Random(53L * count + dim);
      float[] x = random(r, 4 * dim + 3);
      int[] rows = {3 + 2 * dim, 3, 3 + 3 * dim, 3 + dim}; // any order, any offsets
      float[] t = random(r, dim * count + 2);
      float[] bias = random(r, count + 1);
      for (KernelSupport k : new KernelSupport[] {SCALAR, PANAMA}) {
        float[] out = new float[4 * count + 2];
        k.dotProductsTransposed4(
            x, rows[0], rows[1], rows[2], rows[3], t, 2, dim, count, bias, 1, out, 1);
        for (int q = 0; q < 4; q++) {
          for (int c = 0; c < count; c++) {
            double dot = bias[1 + c], mag = Math.abs(bias[1 + c]);
            for (int j = 0; j < dim; j++) {
              double p = (double) x[rows[q] + j] * t[2 + j * count + c];
              dot += p;
              mag += Math.abs(p);
            }
            assertClose(dot, out[1 + q * count + c], mag);
          }
        }
        assertEquals(0f, out[0], k.name() + " wrote before its range");
        assertEquals(0f, out[4 * count + 1], k.name() + " wrote after its range");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 256})
  void tableKernelsMatchTheirOneTableForms(int ksub) {
    for (int m : new int[] {1, 3, 48}) {
      for (int dsub : new int[] {1, 8, 12}) {
        Random r = new Random(1000L * ksub + 10L * m + dsub);
        float[] x = random(r, 5 + m * dsub);
        float[] t = random(r, m * ksub * dsub);
        for (KernelSupport k : new KernelSupport[] {SCALAR, PANAMA}) {
          String what = k.name() + " m=" + m + " dsub=" + dsub + " ksub=" + ksub;
          float[] lut = new float[m * ksub];
          k.dotProductTables(x, 5, t, m, dsub, ksub, lut);
          float[] one = new float[ksub];
          float[] range = new float[2];
          float[] mins = new float[m];
          float span = k.tableMinima(lut, m, ksub, mins);
          float wantSpan = 0;
          for (int s = 0; s < m; s++) {
            SCALAR.dotProductsTransposed(x, 5 + s * dsub, t, s * ksub * dsub, dsub, ksub, one, 0);
            for (int c = 0; c < ksub; c++) {
              assertClose(one[c], lut[s * ksub + c], Math.abs(one[c]) + dsub);
            }
            SCALAR.minMax(lut, s * ksub, ksub, range);
            assertEquals(range[0], mins[s], what + " min of table " + s);
            wantSpan = Math.max(wantSpan, range[1] - range[0]);
          }
          assertEquals(wantSpan, span, what + " span");
          byte[] bytes = new byte[m * ksub + 1];
          byte[] want = new byte[m * ksub + 1];
          float scale = 255f / span;
          k.quantizeTables(lut, m, ksub, mins, scale, 255, bytes);
          for (int s = 0; s < m; s++) {
            SCALAR.quantizeBytes(lut, s * ksub, ksub, mins[s], scale, 255, want, s * ksub);
          }
          assertArrayEquals(want, bytes, what + " bytes");
        }
      }
    }
  }

  @Test
  void transposedKernelsGiveTheSameBitsOnEveryCall() {
    // No horizontal sums: the first, interpreted calls and the compiled ones agree to the bit,
    // which is what keeps k-means deterministic across runs in one JVM.
    Random r = new Random(5);
    float[] x = random(r, 4 * 384), t = random(r, 384 * 64), bias = random(r, 64);
    float[] first = new float[4 * 64], again = new float[4 * 64];
    PANAMA.dotProductsTransposed4(x, 0, 384, 768, 1152, t, 0, 384, 64, bias, 0, first, 0);
    for (int i = 0; i < 20_000; i++) {
      PANAMA.dotProductsTransposed4(x, 0, 384, 768, 1152, t, 0, 384, 64, bias, 0, again, 0);
    }
    assertArrayEquals(first, again);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 7, 15, 16, 17, 31, 384, 385, 1537})
  void squaredNormIsTheSameBitsFromEveryKernelAndCloseToExact(int n) {
    Random r = new Random(3L * n + 1);
    float[] v = random(r, n + 3);
    double exact = 0;
    for (int i = 0; i < n; i++) {
      exact += (double) v[3 + i] * v[3 + i];
    }
    double scalar = SCALAR.squaredNorm(v, 3, n);
    assertEquals(exact, scalar, 1e-12 * Math.max(1, exact));
    // Warm enough for C2: the compiled Vector API form must still give the scalar form's bits.
    for (int i = 0; i < 20_000; i++) {
      assertEquals(Double.doubleToRawLongBits(scalar),
          Double.doubleToRawLongBits(PANAMA.squaredNorm(v, 3, n)), "call " + i);
    }
  }

  @Test
  void squaredNormReportsNonFiniteInput() {
    float[] v = new float[40];
    v[33] = Float.NaN;
    assertTrue(Double.isNaN(PANAMA.squaredNorm(v, 0, 40)));
    assertTrue(Double.isNaN(SCALAR.squaredNorm(v, 0, 40)));
    v[33] = Float.POSITIVE_INFINITY;
    assertEquals(Double.POSITIVE_INFINITY, PANAMA.squaredNorm(v, 0, 40));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 17, 63, 64})
  void atLeastMarksTheScoresAtOrAboveTheBar(int count) {
    Random r = new Random(count);
    float[] v = random(r, count + 2);
    v[2] = 0.25f; // exactly at the bar passes
    if (count > 5) {
      v[2 + 5] = Float.NaN; // never passes
    }
    for (float bar : new float[] {Float.NEGATIVE_INFINITY, -0.5f, 0.25f, 3f}) {
      long want = 0;
      for (int i = 0; i < count; i++) {
        if (v[2 + i] >= bar) {
          want |= 1L << i;
        }
      }
      assertEquals(want, SCALAR.atLeast(v, 2, count, bar), "scalar, bar " + bar);
      assertEquals(want, PANAMA.atLeast(v, 2, count, bar), "panama, bar " + bar);
    }
  }

  @Test
  void atLeastMarksTheSumsAtOrAboveTheThreshold() {
    Random r = new Random(11);
    short[] sums = new short[64];
    for (int i = 0; i < 64; i++) {
      sums[i] = (short) r.nextInt(32768);
    }
    sums[9] = 1000;
    for (int t : new int[] {Integer.MIN_VALUE, -5, 0, 1000, 1001, 20000, 32767, 40000}) {
      long want = 0;
      for (int i = 0; i < 64; i++) {
        if (sums[i] >= t) {
          want |= 1L << i;
        }
      }
      assertEquals(want, SCALAR.atLeast(sums, t), "scalar, threshold " + t);
      assertEquals(want, PANAMA.atLeast(sums, t), "panama, threshold " + t);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 15, 16, 17, 31, 64, 256, 257})
  void argMinIsTheFirstSmallest(int n) {
    Random r = new Random(n);
    for (int trial = 0; trial < 20; trial++) {
      float[] v = random(r, n + 4);
      int at = r.nextInt(n);
      v[4 + at] = -10;
      if (trial % 2 == 0) {
        // A tie later in the range does not move the answer.
        v[4 + n - 1] = -10;
      }
      v[0] = -100; // outside the range
      for (KernelSupport k : new KernelSupport[] {SCALAR, PANAMA}) {
        assertEquals(trial % 2 == 0 ? Math.min(at, n - 1) : at, k.argMin(v, 4, n), k.name());
      }
    }
    float[] same = new float[n];
    assertEquals(0, PANAMA.argMin(same, 0, n));
    assertEquals(0, SCALAR.argMin(same, 0, n));
  }

  @Test
  void facadeChecksTransposedRanges() {
    assertThrows(
        IndexOutOfBoundsException.class,
        () -> VectorKernels.squareDistancesTransposed(
            new float[4], 0, new float[4 * 16 - 1], 0, 4, 16, new float[16], 0));
    assertThrows(
        IndexOutOfBoundsException.class,
        () -> VectorKernels.dotProductsTransposed(
            new float[4], 1, new float[64], 0, 4, 16, new float[16], 0));
    assertThrows(
        IndexOutOfBoundsException.class,
        () -> VectorKernels.dotProductsTransposed4(
            new float[8], 0, 1, 2, 5, new float[64], 0, 4, 16, new float[16], 0, new float[63], 0));
    assertThrows(
        IndexOutOfBoundsException.class,
        () -> VectorKernels.dotProductsTransposed4(
            new float[8], 0, 1, 2, 3, new float[64], 0, 4, 16, new float[15], 0, new float[64], 0));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> VectorKernels.argMin(new float[3], 0, 0));
    assertEquals("argMin of an empty range", e.getMessage());
  }
}
