package dev.codebook.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.openjdk.jmh.annotations.Param;

/**
 * Runs every {@link KernelBenchmark} method once per (impl, dim) and checks the sum it returns
 * against a float64 reference, so a benchmark that measures the wrong thing (a skipped row, a
 * wrong offset, a dead-code-eliminated loop) fails here instead of producing a fast number.
 */
class KernelBenchmarkTest {

  /** Relative to the sum of |per-row reference|, so random signs cannot cancel it to nothing. */
  private static final double TOLERANCE = 1e-4;

  /** Dims off the lane multiples, to cover the kernels' tails; the benchmark runs only @Param's. */
  private static final int[] EXTRA_DIMS = {1, 3, 17, 100, 131};

  static List<Arguments> cases() throws NoSuchFieldException {
    String[] impls = KernelBenchmark.class.getField("impl").getAnnotation(Param.class).value();
    int[] dims =
        IntStream.concat(
                Arrays.stream(KernelBenchmark.class.getField("dim").getAnnotation(Param.class).value())
                    .mapToInt(Integer::parseInt),
                Arrays.stream(EXTRA_DIMS))
            .toArray();
    List<Arguments> cases = new ArrayList<>();
    for (String impl : impls) {
      for (int dim : dims) {
        cases.add(Arguments.of(impl, dim));
      }
    }
    return cases;
  }

  private static KernelBenchmark setUp(String impl, int dim) {
    KernelBenchmark bench = new KernelBenchmark();
    bench.impl = impl;
    bench.dim = dim;
    bench.setup();
    assertEquals(impl, bench.kernels.name());
    assertEquals(KernelBenchmark.ROWS * dim, bench.data.length);
    assertEquals(KernelBenchmark.QUERIES * dim, bench.queries.length);
    return bench;
  }

  /** Sum and sum of magnitudes over (queries x rows) of the float64 score. */
  private static double[] reference(KernelBenchmark b, int queries, boolean distance) {
    double sum = 0;
    double scale = 0;
    for (int q = 0; q < queries; q++) {
      for (int row = 0; row < KernelBenchmark.ROWS; row++) {
        double s = 0;
        for (int i = 0; i < b.dim; i++) {
          double x = b.queries[q * b.dim + i];
          double y = b.data[row * b.dim + i];
          s += distance ? (x - y) * (x - y) : x * y;
        }
        sum += s;
        scale += Math.abs(s);
      }
    }
    return new double[] {sum, scale};
  }

  private static void check(String what, double[] ref, float got) {
    double error = Math.abs(got - ref[0]);
    assertTrue(
        error <= TOLERANCE * ref[1],
        () -> what + ": got " + got + ", float64 reference " + ref[0] + " (error " + error
            + ", allowed " + TOLERANCE * ref[1] + ")");
  }

  @ParameterizedTest(name = "{0} d={1}")
  @MethodSource("cases")
  void dotProduct(String impl, int dim) {
    KernelBenchmark b = setUp(impl, dim);
    check("dotProduct", reference(b, 1, false), b.dotProduct());
  }

  @ParameterizedTest(name = "{0} d={1}")
  @MethodSource("cases")
  void squareDistance(String impl, int dim) {
    KernelBenchmark b = setUp(impl, dim);
    check("squareDistance", reference(b, 1, true), b.squareDistance());
  }

  @ParameterizedTest(name = "{0} d={1}")
  @MethodSource("cases")
  void dotProduct4(String impl, int dim) {
    KernelBenchmark b = setUp(impl, dim);
    check("dotProduct4", reference(b, KernelBenchmark.QUERIES, false), b.dotProduct4());
  }

  @ParameterizedTest(name = "{0} d={1}")
  @MethodSource("cases")
  void squareDistance4(String impl, int dim) {
    KernelBenchmark b = setUp(impl, dim);
    check("squareDistance4", reference(b, KernelBenchmark.QUERIES, true), b.squareDistance4());
  }

  @ParameterizedTest(name = "{0} d={1}")
  @MethodSource("cases")
  void cosineAgainstUnnormalizedVectors(String impl, int dim) {
    KernelBenchmark b = setUp(impl, dim);
    double sum = 0;
    double scale = 0;
    for (int row = 0; row < KernelBenchmark.ROWS; row++) {
      double dot = 0;
      double norm2 = 0;
      for (int i = 0; i < dim; i++) {
        double y = b.data[row * dim + i];
        dot += b.queries[i] * y;
        norm2 += y * y;
      }
      sum += dot / Math.sqrt(norm2);
      scale += Math.abs(dot / Math.sqrt(norm2));
    }
    double[] ref = {sum, scale};
    check("dotProductThenNorm", ref, b.dotProductThenNorm());
    check("dotProductOverNorm", ref, b.dotProductOverNorm());
  }

  /**
   * Repeated invocations are pure: same data, same sum (JMH calls each one millions of times).
   * Equal up to rounding, not bit for bit: the Vector API's lane reduction may sum in another
   * order once the JIT recompiles the kernel between two calls.
   */
  @ParameterizedTest(name = "{0} d={1}")
  @MethodSource("cases")
  void invocationsAreRepeatable(String impl, int dim) {
    KernelBenchmark b = setUp(impl, dim);
    double first = b.dotProduct();
    assertEquals(first, b.dotProduct(), 1e-5 * Math.max(1, Math.abs(first)));
    double first4 = b.dotProduct4();
    assertEquals(first4, b.dotProduct4(), 1e-5 * Math.max(1, Math.abs(first4)));
  }
}
