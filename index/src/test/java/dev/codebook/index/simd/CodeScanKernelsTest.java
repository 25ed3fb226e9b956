package dev.codebook.index.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.codebook.index.fastscan.FastScan8Layout;
import dev.codebook.index.fastscan.FastScanLayout;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The code-scanning kernels: Vector API and scalar twins agree with a plain reference. */
class CodeScanKernelsTest {

  private static final KernelSupport[] BOTH = {KernelProvider.scalar(), KernelProvider.panama()};

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 7, 16, 32, 48, 64})
  void adc8SumsTheTableEntriesOfEachCode(int m) {
    Random r = new Random(m);
    int count = 203;
    byte[] codes = new byte[5 + count * m];
    r.nextBytes(codes);
    float[] lut = new float[m * 256];
    for (int i = 0; i < lut.length; i++) {
      lut[i] = (float) r.nextGaussian();
    }
    for (KernelSupport k : BOTH) {
      float[] out = new float[count];
      k.adc8(codes, 5, count, m, lut, out);
      for (int i = 0; i < count; i++) {
        float expected = 0;
        for (int s = 0; s < m; s++) {
          expected += lut[s * 256 + (codes[5 + i * m + s] & 0xFF)];
        }
        assertEquals(expected, out[i], 1e-4f * m, k.name() + " code " + i);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5, 16, 31, 48, 96, 192})
  void fastScanMaskMatchesExactByteSums(int m) {
    Random r = new Random(100 + m);
    int blockBytes = FastScanLayout.blockBytes(m);
    byte[] codes = new byte[3 + blockBytes];
    int[][] code = new int[64][m];
    for (int v = 0; v < 64; v++) {
      for (int s = 0; s < m; s++) {
        code[v][s] = r.nextInt(16);
        FastScanLayout.set(codes, 3, v, s, code[v][s]);
      }
    }
    byte[] tables = new byte[FastScanLayout.lutBytes(m)];
    int maxEntry = Math.min(255, 32767 / m);
    for (int s = 0; s < m; s++) {
      for (int c = 0; c < 16; c++) {
        tables[(s / 4) * 64 + (s % 4) * 16 + c] = (byte) r.nextInt(maxEntry + 1);
      }
    }
    int[] sums = new int[64];
    for (int v = 0; v < 64; v++) {
      for (int s = 0; s < m; s++) {
        assertEquals(code[v][s], FastScanLayout.get(codes, 3, v, s));
        sums[v] += tables[(s / 4) * 64 + (s % 4) * 16 + code[v][s]] & 0xFF;
      }
    }
    int[] thresholds = {-5, 0, 1, sums[0], sums[17], sums[40], sums[63] + 1, 32767, 40000};
    for (int t : thresholds) {
      long expected = 0;
      for (int v = 0; v < 64; v++) {
        if (t <= 0 || sums[v] >= t) {
          expected |= 1L << v;
        }
      }
      for (KernelSupport k : BOTH) {
        short[] out = new short[64];
        assertEquals(expected, k.fastScan4(codes, 3, FastScanLayout.pairs(m), tables, t, out),
            k.name() + " m=" + m + " threshold " + t);
        if (t <= Short.MAX_VALUE) {
          for (int v = 0; v < 64; v++) {
            assertEquals(sums[v], out[v], k.name() + " sum of vector " + v);
          }
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 7, 16, 32, 48, 64, 96, 128})
  void fastScan8MaskMatchesExactByteSums(int m) {
    Random r = new Random(200 + m);
    byte[] codes = new byte[5 + FastScan8Layout.blockBytes(m)];
    int[][] code = new int[64][m];
    for (int v = 0; v < 64; v++) {
      for (int s = 0; s < m; s++) {
        // Every code value appears: all four 64-entry quarters of each table get looked up.
        code[v][s] = (v * 4 + s * 7 + r.nextInt(4)) & 0xFF;
        FastScan8Layout.set(codes, 5, v, s, code[v][s]);
      }
    }
    byte[] tables = new byte[FastScan8Layout.lutBytes(m)];
    int maxEntry = Math.min(255, 32767 / m);
    for (int i = 0; i < tables.length; i++) {
      tables[i] = (byte) r.nextInt(maxEntry + 1);
    }
    int[] sums = new int[64];
    for (int v = 0; v < 64; v++) {
      for (int s = 0; s < m; s++) {
        assertEquals(code[v][s], FastScan8Layout.get(codes, 5, v, s));
        sums[v] += tables[s * 256 + code[v][s]] & 0xFF;
      }
    }
    int[] thresholds = {-5, 0, 1, sums[0], sums[17], sums[40], sums[63], sums[63] + 1, 32767};
    for (int t : thresholds) {
      long expected = 0;
      for (int v = 0; v < 64; v++) {
        if (t <= 0 || sums[v] >= t) {
          expected |= 1L << v;
        }
      }
      for (KernelSupport k : BOTH) {
        short[] out = new short[64];
        assertEquals(expected, k.fastScan8(codes, 5, m, tables, t, out),
            k.name() + " m=" + m + " threshold " + t);
        for (int v = 0; v < 64; v++) {
          assertEquals(sums[v], out[v], k.name() + " sum of vector " + v);
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 5, 16, 17, 33, 256, 300})
  void minMaxAndQuantizeBytesAgreeWithScalarArithmetic(int length) {
    Random r = new Random(300 + length);
    float[] v = new float[3 + length];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian() * 5;
    }
    float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
    for (int i = 3; i < v.length; i++) {
      lo = Math.min(lo, v[i]);
      hi = Math.max(hi, v[i]);
    }
    // 200 levels over a span that some entries exceed: the clamp at maxValue is exercised.
    float scale = 255 / (hi - lo) * 1.2f;
    for (KernelSupport k : BOTH) {
      float[] range = new float[2];
      k.minMax(v, 3, length, range);
      assertEquals(lo, range[0], k.name());
      assertEquals(hi, range[1], k.name());
      byte[] out = new byte[2 + length];
      k.quantizeBytes(v, 3, length, lo, scale, 200, out, 2);
      for (int i = 0; i < length; i++) {
        int expected = Math.min(200, (int) ((v[3 + i] - lo) * scale + 0.5f));
        assertEquals(expected, out[2 + i] & 0xFF, k.name() + " entry " + i);
      }
    }
  }
}
