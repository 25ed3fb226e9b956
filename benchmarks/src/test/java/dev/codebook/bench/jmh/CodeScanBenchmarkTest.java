package dev.codebook.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.fastscan.FastScan8Layout;
import dev.codebook.index.fastscan.FastScanLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.openjdk.jmh.annotations.Param;

/**
 * Runs each {@link CodeScanBenchmark} method once per parameter combination and checks what it
 * produced against a plain reference that reads one code at a time, so a benchmark that scores
 * the wrong codes, skips a batch or a block, or filters with the wrong threshold fails here.
 */
class CodeScanBenchmarkTest {

  /** Sub-quantizer counts off the @Param values, odd ones included (a half-used last slab). */
  private static final int[] EXTRA_M = {1, 7, 16, 33};

  private static String[] params(Class<?> state, String field) throws NoSuchFieldException {
    return state.getField(field).getAnnotation(Param.class).value();
  }

  private static int[] ms(Class<?> state) throws NoSuchFieldException {
    int[] declared = Arrays.stream(params(state, "m")).mapToInt(Integer::parseInt).toArray();
    int[] all = Arrays.copyOf(declared, declared.length + EXTRA_M.length);
    System.arraycopy(EXTRA_M, 0, all, declared.length, EXTRA_M.length);
    return all;
  }

  static List<Arguments> adc8Cases() throws NoSuchFieldException {
    List<Arguments> cases = new ArrayList<>();
    for (String impl : params(CodeScanBenchmark.Adc8State.class, "impl")) {
      for (int m : ms(CodeScanBenchmark.Adc8State.class)) {
        cases.add(Arguments.of(impl, m));
      }
    }
    return cases;
  }

  static List<Arguments> fastScanCases() throws NoSuchFieldException {
    return cases(CodeScanBenchmark.FastScanState.class);
  }

  static List<Arguments> fastScan8Cases() throws NoSuchFieldException {
    return cases(CodeScanBenchmark.FastScan8State.class);
  }

  private static List<Arguments> cases(Class<?> state) throws NoSuchFieldException {
    List<Arguments> cases = new ArrayList<>();
    for (String impl : params(state, "impl")) {
      for (int m : ms(state)) {
        for (String keep : params(state, "keep")) {
          cases.add(Arguments.of(impl, m, keep));
        }
      }
    }
    return cases;
  }

  /** The float64 ADC score of code {@code i}. */
  private static double adcReference(CodeScanBenchmark.Adc8State s, int i) {
    double sum = 0;
    for (int sub = 0; sub < s.m; sub++) {
      sum += s.lut[sub * 256 + (s.codes[i * s.m + sub] & 0xFF)];
    }
    return sum;
  }

  @ParameterizedTest(name = "{0} m={1}")
  @MethodSource("adc8Cases")
  void adc8ScoresEveryBatch(String impl, int m) {
    CodeScanBenchmark.Adc8State s = new CodeScanBenchmark.Adc8State();
    s.impl = impl;
    s.m = m;
    s.setup();
    assertEquals(impl, s.kernels.name());
    float checksum = new CodeScanBenchmark().adc8(s);

    // Float sums of m terms of magnitude ~1, in whatever order the kernel adds them.
    double tolerance = 1e-5 * m;
    int batches = CodeScanBenchmark.CODES / CodeScanBenchmark.ADC_BATCH;
    double expected = 0;
    for (int b = 0; b < batches; b++) {
      expected += adcReference(s, b * CodeScanBenchmark.ADC_BATCH + ((b * 17) & 255));
    }
    assertEquals(expected, checksum, tolerance * batches, "checksum");
    // The state keeps the last batch: all of it must be right, not only the sampled score.
    int last = (batches - 1) * CodeScanBenchmark.ADC_BATCH;
    for (int i = 0; i < CodeScanBenchmark.ADC_BATCH; i++) {
      assertEquals(adcReference(s, last + i), s.out[i], tolerance, "code " + (last + i));
    }
    assertEquals(checksum, new CodeScanBenchmark().adc8(s), "repeated invocation");
  }

  /**
   * The byte sum of every vector, decoded straight from the documented layout (slab {@code s/2},
   * byte {@code 2j} for vector {@code j < 32} and {@code 2j+1} for vector {@code 32+j}, low
   * nibble for even {@code s}; table entry {@code (s, c)} at {@code (s/4)*64 + (s%4)*16 + c}).
   */
  private static int[] byteSums(CodeScanBenchmark.FastScanState s) {
    int[] sums = new int[CodeScanBenchmark.CODES];
    for (int v = 0; v < CodeScanBenchmark.CODES; v++) {
      int block = v / 64 * s.blockBytes;
      int j = v % 64;
      int pos = j < 32 ? 2 * j : 2 * (j - 32) + 1;
      for (int sub = 0; sub < s.m; sub++) {
        int b = s.codes[block + (sub / 2) * 64 + pos] & 0xFF;
        int c = sub % 2 == 0 ? b & 15 : b >> 4;
        sums[v] += s.tables[(sub / 4) * 64 + (sub % 4) * 16 + c] & 0xFF;
      }
    }
    return sums;
  }

  @ParameterizedTest(name = "{0} m={1} keep={2}")
  @MethodSource("fastScanCases")
  void fastScan4FiltersEveryBlock(String impl, int m, String keep) {
    CodeScanBenchmark.FastScanState s = new CodeScanBenchmark.FastScanState();
    s.impl = impl;
    s.m = m;
    s.keep = keep;
    s.setup();
    assertEquals(impl, s.kernels.name());
    long kept = new CodeScanBenchmark().fastScan4(s);

    int[] sums = byteSums(s);
    long expectedKept = 0;
    for (int b = 0; b < CodeScanBenchmark.BLOCKS; b++) {
      long expected = 0;
      for (int v = 0; v < FastScanLayout.BLOCK; v++) {
        if (sums[b * FastScanLayout.BLOCK + v] >= s.threshold) {
          expected |= 1L << v;
        }
      }
      assertEquals(expected, s.masks[b], "block " + b);
      expectedKept += Long.bitCount(expected);
    }
    assertEquals(expectedKept, kept);
    if (keep.equals("all")) {
      // Every vector, unless some sum is 0 (m=1): the threshold is at least 1.
      long zeros = Arrays.stream(sums).filter(x -> x == 0).count();
      assertEquals(CodeScanBenchmark.CODES - zeros, kept);
    } else if (m >= 16) {
      // About 1%: the 99th percentile plus its ties, which are few once sums spread over m terms.
      assertTrue(kept >= CodeScanBenchmark.CODES / 100 && kept <= CodeScanBenchmark.CODES / 50,
          "kept " + kept);
    }
  }

  @ParameterizedTest(name = "{0} m={1} keep={2}")
  @MethodSource("fastScan8Cases")
  void fastScan8FiltersEveryBlock(String impl, int m, String keep) {
    CodeScanBenchmark.FastScan8State s = new CodeScanBenchmark.FastScan8State();
    s.impl = impl;
    s.m = m;
    s.keep = keep;
    s.setup();
    assertEquals(impl, s.kernels.name());
    long kept = new CodeScanBenchmark().fastScan8(s);

    // Sums decoded straight from the documented layout: slab s, byte 2j for vector j < 32 and
    // 2j+1 for vector 32+j; table entry (s, c) at s*256 + c.
    long expectedKept = 0;
    for (int b = 0; b < CodeScanBenchmark.BLOCKS; b++) {
      long expected = 0;
      for (int j = 0; j < FastScan8Layout.BLOCK; j++) {
        int pos = j < 32 ? 2 * j : 2 * (j - 32) + 1;
        int sum = 0;
        for (int sub = 0; sub < m; sub++) {
          int c = s.codes[b * s.blockBytes + sub * 64 + pos] & 0xFF;
          sum += s.tables[sub * 256 + c] & 0xFF;
        }
        if (sum >= s.threshold) {
          expected |= 1L << j;
        }
      }
      assertEquals(expected, s.masks[b], "block " + b);
      expectedKept += Long.bitCount(expected);
    }
    assertEquals(expectedKept, kept);
    if (keep.equals("1pct") && m >= 16) {
      assertTrue(kept >= CodeScanBenchmark.CODES / 100 && kept <= CodeScanBenchmark.CODES / 50,
          "kept " + kept);
    }
  }
}
