package dev.codebook.index.simd.panama;

import dev.codebook.index.simd.KernelSupport;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels. The only code in Codebook that imports {@code jdk.incubator.vector}; {@link
 * dev.codebook.index.simd.KernelProvider} loads it by name so the rest runs without the module.
 */
public final class PanamaKernelSupport implements KernelSupport {

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = F.length();

  public PanamaKernelSupport() {
    if (LANES < 4) {
      // Below 128-bit registers the scalar loops win; the provider falls back on this.
      throw new UnsupportedOperationException("preferred float species has " + LANES + " lanes");
    }
  }

  @Override
  public String name() {
    return "panama";
  }

  @Override
  public int vectorBitSize() {
    return F.vectorBitSize();
  }

  @Override
  public float dotProduct(float[] a, int aOffset, float[] b, int bOffset, int length) {
    int i = 0;
    float sum = 0;
    if (length >= LANES) {
      // Four independent accumulators hide the FMA latency (4 cycles, 2 ports).
      FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
      FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
      for (int bound = length - 4 * LANES; i <= bound; i += 4 * LANES) {
        acc0 = FloatVector.fromArray(F, a, aOffset + i)
            .fma(FloatVector.fromArray(F, b, bOffset + i), acc0);
        acc1 = FloatVector.fromArray(F, a, aOffset + i + LANES)
            .fma(FloatVector.fromArray(F, b, bOffset + i + LANES), acc1);
        acc2 = FloatVector.fromArray(F, a, aOffset + i + 2 * LANES)
            .fma(FloatVector.fromArray(F, b, bOffset + i + 2 * LANES), acc2);
        acc3 = FloatVector.fromArray(F, a, aOffset + i + 3 * LANES)
            .fma(FloatVector.fromArray(F, b, bOffset + i + 3 * LANES), acc3);
      }
      for (int bound = length - LANES; i <= bound; i += LANES) {
        acc0 = FloatVector.fromArray(F, a, aOffset + i)
            .fma(FloatVector.fromArray(F, b, bOffset + i), acc0);
      }
      sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
    }
    for (; i < length; i++) {
      sum = Math.fma(a[aOffset + i], b[bOffset + i], sum);
    }
    return sum;
  }

  @Override
  public float squareDistance(float[] a, int aOffset, float[] b, int bOffset, int length) {
    int i = 0;
    float sum = 0;
    if (length >= LANES) {
      FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
      FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
      for (int bound = length - 4 * LANES; i <= bound; i += 4 * LANES) {
        FloatVector d0 = FloatVector.fromArray(F, a, aOffset + i)
            .sub(FloatVector.fromArray(F, b, bOffset + i));
        FloatVector d1 = FloatVector.fromArray(F, a, aOffset + i + LANES)
            .sub(FloatVector.fromArray(F, b, bOffset + i + LANES));
        FloatVector d2 = FloatVector.fromArray(F, a, aOffset + i + 2 * LANES)
            .sub(FloatVector.fromArray(F, b, bOffset + i + 2 * LANES));
        FloatVector d3 = FloatVector.fromArray(F, a, aOffset + i + 3 * LANES)
            .sub(FloatVector.fromArray(F, b, bOffset + i + 3 * LANES));
        acc0 = d0.fma(d0, acc0);
        acc1 = d1.fma(d1, acc1);
        acc2 = d2.fma(d2, acc2);
        acc3 = d3.fma(d3, acc3);
      }
      for (int bound = length - LANES; i <= bound; i += LANES) {
        FloatVector d = FloatVector.fromArray(F, a, aOffset + i)
            .sub(FloatVector.fromArray(F, b, bOffset + i));
        acc0 = d.fma(d, acc0);
      }
      sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
    }
    for (; i < length; i++) {
      float d = a[aOffset + i] - b[bOffset + i];
      sum = Math.fma(d, d, sum);
    }
    return sum;
  }

  @Override
  public void dotProduct4(
      float[] queries, int q0, int q1, int q2, int q3, float[] v, int vOffset, int length,
      float[] out, int outOffset) {
    // One load of the data vector feeds four FMAs: the four accumulators are the four queries.
    FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
    FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
    int i = 0;
    for (int bound = length - LANES; i <= bound; i += LANES) {
      FloatVector x = FloatVector.fromArray(F, v, vOffset + i);
      acc0 = FloatVector.fromArray(F, queries, q0 + i).fma(x, acc0);
      acc1 = FloatVector.fromArray(F, queries, q1 + i).fma(x, acc1);
      acc2 = FloatVector.fromArray(F, queries, q2 + i).fma(x, acc2);
      acc3 = FloatVector.fromArray(F, queries, q3 + i).fma(x, acc3);
    }
    float s0 = acc0.reduceLanes(VectorOperators.ADD);
    float s1 = acc1.reduceLanes(VectorOperators.ADD);
    float s2 = acc2.reduceLanes(VectorOperators.ADD);
    float s3 = acc3.reduceLanes(VectorOperators.ADD);
    for (; i < length; i++) {
      float x = v[vOffset + i];
      s0 = Math.fma(queries[q0 + i], x, s0);
      s1 = Math.fma(queries[q1 + i], x, s1);
      s2 = Math.fma(queries[q2 + i], x, s2);
      s3 = Math.fma(queries[q3 + i], x, s3);
    }
    out[outOffset] = s0;
    out[outOffset + 1] = s1;
    out[outOffset + 2] = s2;
    out[outOffset + 3] = s3;
  }

  @Override
  public void squareDistance4(
      float[] queries, int q0, int q1, int q2, int q3, float[] v, int vOffset, int length,
      float[] out, int outOffset) {
    FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
    FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
    int i = 0;
    for (int bound = length - LANES; i <= bound; i += LANES) {
      FloatVector x = FloatVector.fromArray(F, v, vOffset + i);
      FloatVector d0 = FloatVector.fromArray(F, queries, q0 + i).sub(x);
      FloatVector d1 = FloatVector.fromArray(F, queries, q1 + i).sub(x);
      FloatVector d2 = FloatVector.fromArray(F, queries, q2 + i).sub(x);
      FloatVector d3 = FloatVector.fromArray(F, queries, q3 + i).sub(x);
      acc0 = d0.fma(d0, acc0);
      acc1 = d1.fma(d1, acc1);
      acc2 = d2.fma(d2, acc2);
      acc3 = d3.fma(d3, acc3);
    }
    float s0 = acc0.reduceLanes(VectorOperators.ADD);
    float s1 = acc1.reduceLanes(VectorOperators.ADD);
    float s2 = acc2.reduceLanes(VectorOperators.ADD);
    float s3 = acc3.reduceLanes(VectorOperators.ADD);
    for (; i < length; i++) {
      float x = v[vOffset + i];
      float d0 = queries[q0 + i] - x, d1 = queries[q1 + i] - x;
      float d2 = queries[q2 + i] - x, d3 = queries[q3 + i] - x;
      s0 = Math.fma(d0, d0, s0);
      s1 = Math.fma(d1, d1, s1);
      s2 = Math.fma(d2, d2, s2);
      s3 = Math.fma(d3, d3, s3);
    }
    out[outOffset] = s0;
    out[outOffset + 1] = s1;
    out[outOffset + 2] = s2;
    out[outOffset + 3] = s3;
  }
}
