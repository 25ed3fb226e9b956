package dev.codebook.index.quant;

import dev.codebook.index.util.ParallelFor;

import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.VectorUtil;
import java.util.Arrays;
import java.util.Objects;

/**
 * A trained product quantizer, FAISS's {@code ProductQuantizer}: a vector of {@code dim} floats is
 * cut into {@code m} sub-vectors of {@code dsub = dim / m}, and each is replaced by the number of
 * its nearest of {@code ksub = 2^nbits} centroids of that sub-space. Immutable; trained by {@code
 * dev.codebook.index.train.PqTrainer}.
 *
 * <p>Centroids are laid out as FAISS stores them, {@code [m][ksub][dsub]}. A transposed copy,
 * {@code [m][dsub][ksub]}, is derived at construction for the kernels: a sub-vector has fewer
 * floats than a register, so lookup tables and encoding run the lanes across the {@code ksub}
 * centroids ({@link KernelSupport#squareDistancesTransposed}).
 *
 * <p>{@link #encode} writes one code per byte, {@code m} bytes, for 4-bit codes too; {@link
 * #codeSize()} is the packed size an index stores ({@code ceil(m * nbits / 8)}), as in FAISS.
 */
public final class ProductQuantizer {

  /** Vectors per task in {@link #encodeAll}. */
  static final int ENCODE_CHUNK = 1024;

  private final int dim;
  private final int m;
  private final int nbits;
  private final int ksub;
  private final int dsub;
  private final float[] centroids;
  private final float[] centroidsT;

  /**
   * A quantizer over the given centroids (copied).
   *
   * @param centroids {@code m * ksub * dsub} floats, laid out {@code [m][ksub][dsub]}
   * @throws IllegalArgumentException if {@code m} does not divide {@code dim}, {@code nbits} is
   *     not 4 or 8, the length is wrong or a value is not finite
   */
  public ProductQuantizer(int dim, int m, int nbits, float[] centroids) {
    checkShape(dim, m, nbits);
    Objects.requireNonNull(centroids, "centroids");
    this.dim = dim;
    this.m = m;
    this.nbits = nbits;
    this.ksub = 1 << nbits;
    this.dsub = dim / m;
    long expected = (long) m * ksub * dsub;
    if (centroids.length != expected) {
      throw new IllegalArgumentException(
          name(m, nbits) + ": centroids has " + centroids.length + " floats, expected m*ksub*dsub = "
              + m + "*" + ksub + "*" + dsub + " = " + expected);
    }
    VectorUtil.checkFinite(centroids, 0, centroids.length, name(m, nbits) + " centroids");
    this.centroids = centroids.clone();
    this.centroidsT = new float[centroids.length];
    for (int s = 0; s < m; s++) {
      int base = s * ksub * dsub;
      for (int c = 0; c < ksub; c++) {
        for (int j = 0; j < dsub; j++) {
          centroidsT[base + j * ksub + c] = centroids[base + c * dsub + j];
        }
      }
    }
  }

  /**
   * Validates a PQ shape with FAISS-style messages, e.g. {@code "PQ7: m=7 does not divide the
   * dimension 384"}.
   *
   * @throws IllegalArgumentException if the shape is not valid
   */
  public static void checkShape(int dim, int m, int nbits) {
    if (dim <= 0) {
      throw new IllegalArgumentException(name(m, nbits) + ": dimension must be positive, got " + dim);
    }
    if (m <= 0) {
      throw new IllegalArgumentException(name(m, nbits) + ": m must be positive, got " + m);
    }
    if (dim % m != 0) {
      throw new IllegalArgumentException(
          name(m, nbits) + ": m=" + m + " does not divide the dimension " + dim);
    }
    if (nbits != 4 && nbits != 8) {
      throw new IllegalArgumentException(
          name(m, nbits) + ": nbits must be 4 or 8, got " + nbits);
    }
  }

  /** FAISS's factory name: {@code PQ32} for 8-bit codes, {@code PQ32x4} otherwise. */
  static String name(int m, int nbits) {
    return nbits == 8 ? "PQ" + m : "PQ" + m + "x" + nbits;
  }

  public int dimension() {
    return dim;
  }

  /** Sub-quantizers, and bytes written by {@link #encode}. */
  public int m() {
    return m;
  }

  public int nbits() {
    return nbits;
  }

  /** Centroids per sub-space, {@code 2^nbits}. */
  public int ksub() {
    return ksub;
  }

  /** Dimensions per sub-space, {@code dim / m}. */
  public int dsub() {
    return dsub;
  }

  /** Packed bytes per vector, {@code ceil(m * nbits / 8)}, FAISS's {@code code_size}. */
  public int codeSize() {
    return (m * nbits + 7) / 8;
  }

  /** Floats of a lookup table, {@code m * ksub}. */
  public int tableSize() {
    return m * ksub;
  }

  /** A copy of the centroids, {@code [m][ksub][dsub]}. */
  public float[] centroids() {
    return centroids.clone();
  }

  /** Copies centroid {@code code} of sub-space {@code sub} to {@code out[outOffset..+dsub)}. */
  public void centroid(int sub, int code, float[] out, int outOffset) {
    Objects.checkIndex(sub, m);
    Objects.checkIndex(code, ksub);
    System.arraycopy(centroids, (sub * ksub + code) * dsub, out, outOffset, dsub);
  }

  /**
   * Writes the {@code m} codes of {@code v[offset..offset+dim)} to {@code codes[codeOffset..)}, one
   * per byte: the nearest centroid of each sub-space by squared L2 (the lower code on ties).
   */
  public void encode(float[] v, int offset, byte[] codes, int codeOffset) {
    encode(v, offset, codes, codeOffset, new float[ksub]);
  }

  /**
   * {@link #encode(float[], int, byte[], int)} with a caller-owned scratch of at least {@link
   * #ksub()} floats, for loops that encode many vectors.
   */
  public void encode(float[] v, int offset, byte[] codes, int codeOffset, float[] scratch) {
    Objects.checkFromIndexSize(offset, dim, v.length);
    Objects.checkFromIndexSize(codeOffset, m, codes.length);
    if (scratch.length < ksub) {
      throw new IllegalArgumentException("scratch holds " + scratch.length + " floats, need " + ksub);
    }
    encodeUnchecked(VectorKernels.support(), v, offset, codes, codeOffset, scratch);
  }

  private void encodeUnchecked(
      KernelSupport k, float[] v, int offset, byte[] codes, int codeOffset, float[] scratch) {
    for (int s = 0; s < m; s++) {
      k.squareDistancesTransposed(
          v, offset + s * dsub, centroidsT, s * ksub * dsub, dsub, ksub, scratch, 0);
      codes[codeOffset + s] = (byte) k.argMin(scratch, 0, ksub);
    }
  }

  /**
   * Encodes every row of {@code vectors} with {@code threads} threads into {@code rows * m} bytes,
   * row {@code i} at {@code i * m}.
   */
  public byte[] encodeAll(FloatMatrix vectors, int threads) {
    checkDimension(vectors.dim());
    if (threads <= 0) {
      throw new IllegalArgumentException("threads must be positive, got " + threads);
    }
    int n = vectors.rows();
    byte[] codes = new byte[Math.multiplyExact(n, m)];
    int tasks = (n + ENCODE_CHUNK - 1) / ENCODE_CHUNK;
    ParallelFor.forEach(tasks, threads, "codebook-pq-encode", t -> {
      KernelSupport k = VectorKernels.support();
      float[] scratch = new float[ksub];
      for (int i = t * ENCODE_CHUNK, end = Math.min(n, i + ENCODE_CHUNK); i < end; i++) {
        encodeUnchecked(k, vectors.data(), i * dim, codes, i * m, scratch);
      }
    });
    return codes;
  }

  /** Writes the reconstruction of {@code codes[codeOffset..+m)} to {@code out[outOffset..+dim)}. */
  public void decode(byte[] codes, int codeOffset, float[] out, int outOffset) {
    Objects.checkFromIndexSize(codeOffset, m, codes.length);
    Objects.checkFromIndexSize(outOffset, dim, out.length);
    for (int s = 0; s < m; s++) {
      int code = codes[codeOffset + s] & 0xFF;
      if (code >= ksub) {
        throw new IllegalArgumentException(
            "code " + code + " of sub-space " + s + " is out of range for " + nbits + " bits");
      }
      System.arraycopy(centroids, (s * ksub + code) * dsub, out, outOffset + s * dsub, dsub);
    }
  }

  /**
   * Fills {@code lut[s * ksub + c]} with the squared L2 distance from sub-vector {@code s} of the
   * query to centroid {@code c}: the asymmetric distance to a code is then the sum of {@code m}
   * entries (see {@link #tableDistance}).
   */
  public void computeDistanceTable(float[] q, int qOffset, float[] lut) {
    checkTable(q, qOffset, lut);
    KernelSupport k = VectorKernels.support();
    for (int s = 0, t = 0; s < m; s++, t += ksub * dsub) {
      k.squareDistancesTransposed(q, qOffset + s * dsub, centroidsT, t, dsub, ksub, lut, s * ksub);
    }
  }

  /** Fills {@code lut[s * ksub + c]} with the dot product of sub-vector {@code s} and centroid c. */
  public void computeInnerProductTable(float[] q, int qOffset, float[] lut) {
    checkTable(q, qOffset, lut);
    VectorKernels.support().dotProductTables(q, qOffset, centroidsT, m, dsub, ksub, lut);
  }

  /**
   * Fills {@code lut} with scores where higher is better, as the fast-scan tables want them: the
   * inner-product table for {@code innerProduct}, else the negated squared distances.
   */
  public void computeScoreTable(float[] q, int qOffset, float[] lut, boolean innerProduct) {
    if (innerProduct) {
      computeInnerProductTable(q, qOffset, lut);
      return;
    }
    computeDistanceTable(q, qOffset, lut);
    for (int i = 0, n = m * ksub; i < n; i++) {
      lut[i] = -lut[i];
    }
  }

  /**
   * The reference ADC sum: {@code sum_s lut[s * ksub + codes[codeOffset + s]]}. Scanners use their
   * own kernels and are tested against this.
   */
  public float tableDistance(float[] lut, byte[] codes, int codeOffset) {
    float sum = 0;
    for (int s = 0; s < m; s++) {
      sum += lut[s * ksub + (codes[codeOffset + s] & 0xFF)];
    }
    return sum;
  }

  private void checkTable(float[] q, int qOffset, float[] lut) {
    Objects.checkFromIndexSize(qOffset, dim, q.length);
    if (lut.length < m * ksub) {
      throw new IllegalArgumentException(
          "lookup table holds " + lut.length + " floats, need m*ksub = " + (m * ksub));
    }
  }

  private void checkDimension(int got) {
    if (got != dim) {
      throw new IllegalArgumentException("vector dimensions differ: " + got + "!=" + dim);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ProductQuantizer p
        && dim == p.dim
        && m == p.m
        && nbits == p.nbits
        && Arrays.equals(centroids, p.centroids);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * dim + m) + nbits) + Arrays.hashCode(centroids);
  }

  @Override
  public String toString() {
    return name(m, nbits) + "[dim=" + dim + ", dsub=" + dsub + ", ksub=" + ksub + "]";
  }
}
