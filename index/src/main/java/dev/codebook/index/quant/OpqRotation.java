package dev.codebook.index.quant;

import dev.codebook.index.util.ParallelFor;

import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.VectorUtil;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;

/**
 * An orthogonal {@code d x d} matrix {@code R} applied before product quantization, FAISS's
 * {@code OPQMatrix} (trained by {@code dev.codebook.index.train.OpqTrainer}) and {@code
 * RandomRotationMatrix} ({@link #random}). A rotation keeps dot products and L2 distances, so an
 * index can search, and re-rank, entirely in the rotated space; it only changes which dimensions
 * share a PQ sub-space. Immutable.
 *
 * <p>{@code R} is stored row-major, {@code y = R x}. Both {@code R} and {@code R^T} are kept in
 * the layout of {@link KernelSupport#dotProductsTransposed}, so {@link #apply} and {@link
 * #applyTranspose} are one kernel call each with the lanes across output dimensions, and {@link
 * #applyAll} rotates four vectors per pass over the matrix with {@link
 * KernelSupport#dotProductsTransposed4}. The kernels have no horizontal sums, so a vector rotates
 * to the same floats alone or in bulk, on any thread count. On 28,000 x 384 MiniLM vectors, one
 * thread, that takes 0.13-0.34 s, against 0.5-0.9 s for one {@code dotProduct} per output and
 * 5 s for EJML's double {@code multTransB}.
 */
public final class OpqRotation {

  /**
   * Largest accepted entry of {@code |R R^T - I|}: an exact rotation rounded to floats is off by
   * about {@code 1e-8} (measured at d=384 and 1024), so this only rejects matrices that are not
   * rotations, such as a corrupt or transposed-shape file.
   */
  public static final float ORTHOGONALITY_TOLERANCE = 1e-4f;

  /**
   * Rows per task in {@link #applyAll}, the unit of parallel work. Every row is rotated on its
   * own, so neither this nor the thread count changes the result.
   */
  static final int APPLY_CHUNK = 256;

  private final int dim;
  /** {@code R}, row-major: the transposed-kernel layout of {@code R^T}'s rows. */
  private final float[] matrix;
  /** {@code R^T}, row-major: the transposed-kernel layout of {@code R}'s rows. */
  private final float[] transposed;

  /** Zero biases for the four-row kernel; read only. */
  private final float[] zeros;

  /**
   * A rotation from its matrix (copied).
   *
   * @param matrix {@code d * d} floats, row-major, {@code y = R x}
   * @throws IllegalArgumentException if the length is not {@code d * d}, a value is not finite, or
   *     {@code R R^T} differs from the identity by more than {@value #ORTHOGONALITY_TOLERANCE}
   */
  public OpqRotation(int dim, float[] matrix) {
    Objects.requireNonNull(matrix, "matrix");
    if (dim <= 0) {
      throw new IllegalArgumentException("rotation: dimension must be positive, got " + dim);
    }
    if (matrix.length != (long) dim * dim) {
      throw new IllegalArgumentException(
          "rotation: matrix has " + matrix.length + " floats, expected d*d = " + dim + "*" + dim
              + " = " + (long) dim * dim);
    }
    VectorUtil.checkFinite(matrix, 0, matrix.length, "rotation matrix");
    this.dim = dim;
    this.matrix = matrix.clone();
    this.transposed = new float[matrix.length];
    this.zeros = new float[dim];
    for (int i = 0; i < dim; i++) {
      for (int j = 0; j < dim; j++) {
        transposed[j * dim + i] = matrix[i * dim + j];
      }
    }
    checkOrthogonal();
  }

  /** The identity: PQ sees the vectors as they are. */
  public static OpqRotation identity(int dim) {
    if (dim <= 0) {
      throw new IllegalArgumentException("rotation: dimension must be positive, got " + dim);
    }
    float[] r = new float[Math.multiplyExact(dim, dim)];
    for (int i = 0; i < dim; i++) {
      r[i * dim + i] = 1;
    }
    return new OpqRotation(dim, r);
  }

  /**
   * A uniformly random rotation, FAISS's {@code RandomRotationMatrix}: the {@code Q} of the QR
   * decomposition of a seeded Gaussian matrix, its columns signed so that {@code R} has a positive
   * diagonal (without that, {@code Q} is not uniform over rotations). It spreads variance that is
   * concentrated in a few coordinates over all sub-spaces, and starts {@code OpqTrainer}.
   */
  public static OpqRotation random(int dim, long seed) {
    if (dim <= 0) {
      throw new IllegalArgumentException("rotation: dimension must be positive, got " + dim);
    }
    SplittableRandom rng = new SplittableRandom(seed);
    DMatrixRMaj g = new DMatrixRMaj(dim, dim);
    for (int i = 0; i < g.data.length; i++) {
      g.data[i] = rng.nextGaussian();
    }
    QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(dim, dim);
    if (!qr.decompose(g)) {
      throw new IllegalStateException("QR decomposition of a Gaussian matrix failed");
    }
    DMatrixRMaj q = qr.getQ(null, false);
    DMatrixRMaj upper = qr.getR(null, false);
    float[] r = new float[Math.multiplyExact(dim, dim)];
    for (int i = 0; i < dim; i++) {
      for (int j = 0; j < dim; j++) {
        double sign = upper.get(j, j) < 0 ? -1 : 1;
        r[i * dim + j] = (float) (q.get(i, j) * sign);
      }
    }
    return new OpqRotation(dim, r);
  }

  public int dimension() {
    return dim;
  }

  /** A copy of {@code R}, {@code d * d} floats, row-major. */
  public float[] matrix() {
    return matrix.clone();
  }

  /**
   * Writes {@code R x} for {@code x = x[xOffset..+d)} to {@code out[outOffset..+d)}.
   *
   * @throws IllegalArgumentException if the two ranges overlap (every output reads all of x)
   */
  public void apply(float[] x, int xOffset, float[] out, int outOffset) {
    checkVector(x, xOffset, out, outOffset);
    VectorKernels.support().dotProductsTransposed(x, xOffset, transposed, 0, dim, dim, out, outOffset);
  }

  /**
   * Writes {@code R^T x}, the inverse rotation, for {@code x = x[xOffset..+d)} to {@code
   * out[outOffset..+d)}.
   *
   * @throws IllegalArgumentException if the two ranges overlap
   */
  public void applyTranspose(float[] x, int xOffset, float[] out, int outOffset) {
    checkVector(x, xOffset, out, outOffset);
    VectorKernels.support().dotProductsTransposed(x, xOffset, matrix, 0, dim, dim, out, outOffset);
  }

  /** {@link #applyAll(FloatMatrix, int)} on one thread per available processor. */
  public FloatMatrix applyAll(FloatMatrix vectors) {
    return applyAll(vectors, Runtime.getRuntime().availableProcessors());
  }

  /**
   * Rotates every row of {@code vectors} with {@code threads} threads, into a new matrix: row
   * {@code i} of the result is {@code R x_i}, the same floats {@link #apply} gives.
   */
  public FloatMatrix applyAll(FloatMatrix vectors, int threads) {
    Objects.requireNonNull(vectors, "vectors");
    float[] out = new float[vectors.data().length];
    applyRows(vectors, 0, vectors.rows(), out, threads);
    return new FloatMatrix(vectors.rows(), dim, out);
  }

  /**
   * Rotates rows {@code [from, to)} of {@code vectors} into the same rows of {@code out} (laid
   * out as {@code vectors}), as {@link #applyAll(FloatMatrix, int)} does: for a trainer that
   * rotates a large sample a slice at a time and checks for cancellation in between.
   */
  public void applyRows(FloatMatrix vectors, int from, int to, float[] out, int threads) {
    Objects.requireNonNull(vectors, "vectors");
    Objects.requireNonNull(out, "out");
    if (vectors.dim() != dim) {
      throw new IllegalArgumentException(
          "vector dimensions differ: " + vectors.dim() + "!=" + dim);
    }
    if (threads <= 0) {
      throw new IllegalArgumentException("threads must be positive, got " + threads);
    }
    Objects.checkFromToIndex(from, to, vectors.rows());
    float[] x = vectors.data();
    if (out == x || out.length < (long) to * dim) {
      throw new IllegalArgumentException("rotation output must be another array of at least "
          + (long) to * dim + " floats, got " + (out == x ? "the input" : out.length + ""));
    }
    int tasks = (to - from + APPLY_CHUNK - 1) / APPLY_CHUNK;
    ParallelFor.forEach(tasks, threads, "codebook-opq-rotate", task -> {
      KernelSupport k = VectorKernels.support();
      int end = Math.min(to, from + (task + 1) * APPLY_CHUNK);
      int i = from + task * APPLY_CHUNK;
      // Four rows per call write four consecutive output rows in place.
      for (; i + 4 <= end; i += 4) {
        int o = i * dim;
        k.dotProductsTransposed4(
            x, o, o + dim, o + 2 * dim, o + 3 * dim, transposed, 0, dim, dim, zeros, 0, out, o);
      }
      // The last rows (a server's one query) one at a time, as apply does: no scratch rows.
      for (; i < end; i++) {
        k.dotProductsTransposed(x, i * dim, transposed, 0, dim, dim, out, i * dim);
      }
    });
  }

  private void checkVector(float[] x, int xOffset, float[] out, int outOffset) {
    Objects.checkFromIndexSize(xOffset, dim, x.length);
    Objects.checkFromIndexSize(outOffset, dim, out.length);
    if (x == out && xOffset < outOffset + dim && outOffset < xOffset + dim) {
      throw new IllegalArgumentException(
          "rotation input [" + xOffset + ", " + (xOffset + dim) + ") and output [" + outOffset
              + ", " + (outOffset + dim) + ") overlap");
    }
  }

  /**
   * Rows of {@code R} are orthonormal: {@code R R^T} is I. A plain loop in double rather than
   * the Vector API kernel: a rotation is made before anything has warmed that kernel up, and
   * run by the interpreter it took seconds at d = 384, during which a build could not be
   * cancelled; a plain loop is compiled within milliseconds.
   */
  private void checkOrthogonal() {
    for (int i = 0; i < dim; i++) {
      for (int j = i; j < dim; j++) {
        double dot = 0;
        for (int k = 0, a = i * dim, b = j * dim; k < dim; k++) {
          dot += (double) matrix[a + k] * matrix[b + k];
        }
        double expected = i == j ? 1 : 0;
        if (!(Math.abs(dot - expected) <= ORTHOGONALITY_TOLERANCE)) {
          throw new IllegalArgumentException(
              "rotation: matrix is not orthogonal, (R R^T)[" + i + "][" + j + "] = "
                  + (float) dot + ", expected " + expected);
        }
      }
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OpqRotation r && dim == r.dim && Arrays.equals(matrix, r.matrix);
  }

  @Override
  public int hashCode() {
    return 31 * dim + Arrays.hashCode(matrix);
  }

  @Override
  public String toString() {
    return "OpqRotation[dim=" + dim + "]";
  }
}
