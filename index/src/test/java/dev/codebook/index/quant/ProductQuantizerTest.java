package dev.codebook.index.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.train.PqTrainer;
import dev.codebook.index.vector.FloatMatrix;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A product quantizer encodes each sub-vector as its nearest centroid, decodes codes back to
 * centroids, and its lookup tables give exactly the distance to the decoded vector.
 */
class ProductQuantizerTest {

  static FloatMatrix gaussian(long seed, int rows, int dim) {
    Random r = new Random(seed);
    FloatMatrix m = FloatMatrix.allocate(rows, dim);
    for (int i = 0; i < m.data().length; i++) {
      m.data()[i] = (float) r.nextGaussian();
    }
    return m;
  }

  /** A quantizer with random centroids: encoding and tables do not need trained ones. */
  static ProductQuantizer random(long seed, int dim, int m, int nbits) {
    int ksub = 1 << nbits;
    return new ProductQuantizer(dim, m, nbits, gaussian(seed, m * ksub, dim / m).data());
  }

  static PqTrainer.Params training() {
    return PqTrainer.Params.defaults().withSeed(5).withThreads(2).withIterations(10);
  }

  static double squareDistance(float[] a, int aOff, float[] b, int bOff, int d) {
    double s = 0;
    for (int j = 0; j < d; j++) {
      double t = (double) a[aOff + j] - b[bOff + j];
      s += t * t;
    }
    return s;
  }

  /** Mean over the rows of the squared distance to their reconstruction. */
  static double reconstructionError(ProductQuantizer pq, FloatMatrix x) {
    byte[] codes = pq.encodeAll(x, 2);
    float[] rec = new float[x.dim()];
    double sum = 0;
    for (int i = 0; i < x.rows(); i++) {
      pq.decode(codes, i * pq.m(), rec, 0);
      sum += squareDistance(x.data(), x.offset(i), rec, 0, x.dim());
    }
    return sum / x.rows();
  }

  @Test
  void reconstructionErrorDecreasesAsMGrows() {
    FloatMatrix train = gaussian(1, 4000, 48);
    FloatMatrix test = gaussian(2, 500, 48);
    double first = 0, previous = Double.POSITIVE_INFINITY;
    for (int m : new int[] {1, 2, 4, 8, 16, 24}) {
      double error = reconstructionError(PqTrainer.train(train, m, 8, training()), test);
      assertTrue(error < previous, "m=" + m + ": " + error + " vs " + previous);
      first = m == 1 ? error : first;
      previous = error;
    }
    assertTrue(previous < 0.5 * first, previous + " vs " + first);
  }

  @ParameterizedTest
  @CsvSource({"8,4,8", "8,4,4", "91,7,8", "91,7,4", "384,32,8", "5,5,4", "702,27,8"})
  void encodeChoosesTheNearestCentroidOfEverySubspace(int dim, int m, int nbits) {
    ProductQuantizer pq = random(dim * 7L + m, dim, m, nbits);
    FloatMatrix x = gaussian(dim, 50, dim);
    byte[] all = pq.encodeAll(x, 2);
    byte[] codes = new byte[m + 3];
    float[] centroid = new float[pq.dsub()];
    for (int i = 0; i < x.rows(); i++) {
      pq.encode(x.data(), x.offset(i), codes, 3);
      for (int s = 0; s < m; s++) {
        int code = codes[3 + s] & 0xFF;
        assertTrue(code < pq.ksub(), "code " + code + " has more than " + nbits + " bits");
        assertEquals(code, all[i * m + s] & 0xFF, "encodeAll agrees");
        pq.centroid(s, code, centroid, 0);
        double chosen = squareDistance(x.data(), x.offset(i) + s * pq.dsub(), centroid, 0, pq.dsub());
        for (int c = 0; c < pq.ksub(); c++) {
          pq.centroid(s, c, centroid, 0);
          double other = squareDistance(x.data(), x.offset(i) + s * pq.dsub(), centroid, 0, pq.dsub());
          assertTrue(chosen <= other * (1 + 1e-5) + 1e-6, "row " + i + " sub " + s + " code " + c);
        }
      }
    }
  }

  @ParameterizedTest
  @CsvSource({"8,4,8", "91,7,8", "91,7,4", "384,32,8", "384,48,4", "702,27,8"})
  void lookupTablesGiveTheExactDistanceToTheDecodedVector(int dim, int m, int nbits) {
    ProductQuantizer pq = random(dim + m, dim, m, nbits);
    FloatMatrix x = gaussian(dim + 1, 20, dim);
    FloatMatrix queries = gaussian(dim + 2, 5, dim);
    byte[] codes = pq.encodeAll(x, 1);
    float[] l2 = new float[pq.tableSize()];
    float[] ip = new float[pq.tableSize()];
    float[] rec = new float[dim];
    for (int q = 0; q < queries.rows(); q++) {
      pq.computeDistanceTable(queries.data(), queries.offset(q), l2);
      pq.computeInnerProductTable(queries.data(), queries.offset(q), ip);
      for (int i = 0; i < x.rows(); i++) {
        pq.decode(codes, i * m, rec, 0);
        double exact = squareDistance(queries.data(), queries.offset(q), rec, 0, dim);
        double dot = 0, magnitude = 0;
        for (int j = 0; j < dim; j++) {
          dot += (double) queries.data()[queries.offset(q) + j] * rec[j];
          magnitude += Math.abs((double) queries.data()[queries.offset(q) + j] * rec[j]);
        }
        assertEquals(exact, pq.tableDistance(l2, codes, i * m), 1e-4 * exact, "L2 q" + q + " x" + i);
        assertEquals(dot, pq.tableDistance(ip, codes, i * m), 1e-4 * magnitude, "IP q" + q + " x" + i);
      }
    }
  }

  @Test
  void scoreTablesAreTheInnerProductTableOrTheNegatedDistanceTable() {
    ProductQuantizer pq = random(5, 48, 6, 4);
    FloatMatrix queries = gaussian(6, 3, 48);
    float[] l2 = new float[pq.tableSize()];
    float[] ip = new float[pq.tableSize()];
    float[] score = new float[pq.tableSize()];
    for (int q = 0; q < queries.rows(); q++) {
      pq.computeDistanceTable(queries.data(), queries.offset(q), l2);
      pq.computeInnerProductTable(queries.data(), queries.offset(q), ip);
      pq.computeScoreTable(queries.data(), queries.offset(q), score, true);
      assertArrayEquals(ip, score, "inner product, query " + q);
      pq.computeScoreTable(queries.data(), queries.offset(q), score, false);
      for (int i = 0; i < l2.length; i++) {
        assertEquals(-l2[i], score[i], "L2, query " + q + " entry " + i);
      }
    }
  }

  @Test
  void fourBitCodesStayBelowSixteenAndPackIntoHalfBytes() {
    ProductQuantizer pq = PqTrainer.train(gaussian(3, 1000, 64), 16, 4, training());
    assertEquals(16, pq.ksub());
    assertEquals(8, pq.codeSize(), "16 codes of 4 bits");
    for (byte b : pq.encodeAll(gaussian(4, 300, 64), 2)) {
      assertTrue((b & 0xFF) < 16, "code " + (b & 0xFF));
    }
    assertEquals(32, random(0, 64, 32, 8).codeSize());
  }

  @Test
  void decodingACentroidsCodesReturnsTheCentroidsExactly() {
    ProductQuantizer pq = random(8, 91, 7, 8);
    byte[] codes = {3, (byte) 255, 0, 17, (byte) 128, 1, 99};
    float[] v = new float[91];
    pq.decode(codes, 0, v, 0);
    byte[] again = new byte[7];
    pq.encode(v, 0, again, 0);
    assertArrayEquals(codes, again);
    float[] rec = new float[93];
    pq.decode(again, 0, rec, 2);
    for (int j = 0; j < 91; j++) {
      assertEquals(v[j], rec[2 + j]);
    }
  }

  @Test
  void equalsComparesContentsAndTheConstructorCopies() {
    float[] centroids = gaussian(6, 4 * 256, 3).data();
    ProductQuantizer a = new ProductQuantizer(12, 4, 8, centroids);
    ProductQuantizer b = new ProductQuantizer(12, 4, 8, a.centroids());
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    centroids[0] += 1;
    assertEquals(a, b, "changing the caller's array does not change the quantizer");
    assertNotEquals(a, new ProductQuantizer(12, 4, 8, centroids));
    float[] copy = a.centroids();
    copy[0] += 1;
    assertEquals(a, b, "changing a returned copy does not change the quantizer");
    assertEquals("PQ4[dim=12, dsub=3, ksub=256]", a.toString());
  }

  @Test
  void badShapesAreRejectedWithFaissStyleMessages() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ProductQuantizer.checkShape(384, 7, 8));
    assertEquals("PQ7: m=7 does not divide the dimension 384", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ProductQuantizer.checkShape(384, 32, 5));
    assertEquals("PQ32x5: nbits must be 4 or 8, got 5", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ProductQuantizer.checkShape(384, 0, 8));
    assertEquals("PQ0: m must be positive, got 0", e.getMessage());
    e = assertThrows(
        IllegalArgumentException.class, () -> new ProductQuantizer(8, 2, 4, new float[60]));
    assertEquals(
        "PQ2x4: centroids has 60 floats, expected m*ksub*dsub = 2*16*4 = 128", e.getMessage());
    float[] nan = new float[128];
    nan[5] = Float.NaN;
    e = assertThrows(IllegalArgumentException.class, () -> new ProductQuantizer(8, 2, 4, nan));
    assertEquals("PQ2x4 centroids has a non-finite value NaN at dimension 5", e.getMessage());

    ProductQuantizer pq = random(1, 8, 2, 4);
    e = assertThrows(
        IllegalArgumentException.class, () -> pq.decode(new byte[] {3, 16}, 0, new float[8], 0));
    assertEquals("code 16 of sub-space 1 is out of range for 4 bits", e.getMessage());
    e = assertThrows(
        IllegalArgumentException.class, () -> pq.computeDistanceTable(new float[8], 0, new float[31]));
    assertEquals("lookup table holds 31 floats, need m*ksub = 32", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> pq.encodeAll(gaussian(1, 3, 9), 1));
    assertEquals("vector dimensions differ: 9!=8", e.getMessage());
    assertThrows(
        IndexOutOfBoundsException.class, () -> pq.encode(new float[8], 1, new byte[2], 0));
  }
}
