package dev.codebook.index.fastscan;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The quantized table is a safe filter: whatever the float table keeps, the bytes keep too. */
class QuantizedLutTest {

  @ParameterizedTest
  @ValueSource(ints = {1, 3, 8, 32, 48, 192})
  void thresholdNeverDropsAVectorTheFloatTableKeeps(int m) {
    Random r = new Random(m);
    float[] lut = new float[m * 16];
    for (int i = 0; i < lut.length; i++) {
      lut[i] = (float) (r.nextGaussian() * (1 + (i / 16) % 3));
    }
    QuantizedLut q = new QuantizedLut(m);
    q.quantize(lut);
    byte[] t = q.tables();
    for (int trial = 0; trial < 2000; trial++) {
      int[] code = new int[m];
      float exact = 0;
      int bytes = 0;
      for (int s = 0; s < m; s++) {
        code[s] = r.nextInt(16);
        exact += lut[s * 16 + code[s]];
        bytes += t[(s / 4) * 64 + (s % 4) * 16 + code[s]] & 0xFF;
      }
      float bias = (float) r.nextGaussian();
      // A top-k whose worst score is exactly this vector's must not filter it out.
      int threshold = q.threshold(exact + bias, bias);
      assertTrue(bytes >= threshold, "m=" + m + ": sum " + bytes + " < threshold " + threshold);
      assertTrue(bytes <= 32767);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3, 8, 32, 48, 192})
  void byteSumsBoundTheFloatScoreFromBothSides(int m) {
    for (int ksub : new int[] {16, 256}) {
      Random r = new Random(m * 31L + ksub);
      float[] lut = new float[m * ksub];
      for (int i = 0; i < lut.length; i++) {
        lut[i] = (float) (r.nextGaussian() * (1 + (i / ksub) % 3) + 10);
      }
      QuantizedLut q = new QuantizedLut(m, ksub);
      q.quantize(lut);
      byte[] t = q.tables();
      for (int trial = 0; trial < 2000; trial++) {
        float exact = 0;
        int bytes = 0;
        for (int s = 0; s < m; s++) {
          int c = r.nextInt(ksub);
          exact += lut[s * ksub + c];
          bytes += t[s * ksub + c] & 0xFF; // both layouts: entry (s, c) at s * ksub + c
        }
        float bias = (float) r.nextGaussian();
        float score = exact + bias;
        assertTrue(q.lowerBound(bytes, bias) <= score, "m=" + m + " lower bound above " + score);
        assertTrue(q.upperBound(bytes, bias) >= score, "m=" + m + " upper bound below " + score);
        // The kernel's threshold for a bar at this very score keeps this vector.
        assertTrue(bytes >= q.threshold(score, bias));
      }
    }
  }
}
