package dev.codebook.bench.jmh;

import dev.codebook.index.fastscan.FastScan8Layout;
import dev.codebook.index.fastscan.FastScanLayout;
import dev.codebook.index.fastscan.QuantizedLut;
import dev.codebook.index.simd.KernelProvider;
import dev.codebook.index.simd.KernelSupport;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The PQ code-scanning kernels of {@link KernelSupport}, scalar and Vector API through the one SPI,
 * as {@code IvfPqIndex} calls them when it scans an inverted list.
 *
 * <p>Scores are in <em>codes scored per second</em>: every invocation scores {@value #CODES}
 * codes, so the 8-bit ADC and the 4-bit fast-scan numbers compare directly.
 *
 * <ul>
 *   <li>{@link #adc8}: one list of {@value #CODES} 8-bit codes of {@code m} bytes ({@code m x 256}
 *       float table: 32 KB at m=32, 48 KB at m=48, so the table alone fills the 32 KB L1 of Zen 4),
 *       scored in calls of {@value #ADC_BATCH} codes: FAISS's 8-bit scan, the baseline.
 *   <li>{@link #fastScan8}: the same codes in {@link FastScan8Layout} blocks, filtered with byte
 *       tables ({@link QuantizedLut} of the float table) as {@code IvfPqIndex} scans 8-bit lists;
 *       {@code keep} as for fast-scan.
 *   <li>{@link #fastScan4}: {@value #BLOCKS} blocks of 64 vectors in {@link FastScanLayout}, the
 *       byte tables from {@link QuantizedLut} over a random float table. {@code keep=all} sets the
 *       threshold to the smallest byte sum of the list (at least 1), so every vector passes;
 *       {@code keep=1pct} sets it to the 99th percentile of the sums, about what a
 *       filled top-k imposes, so about 1% pass.
 * </ul>
 *
 * <p>Each method returns a checksum of what the kernel produced, and leaves the last output in its
 * state, which {@code CodeScanBenchmarkTest} checks against a plain reference. As in {@link
 * KernelBenchmark}, JMH forks a JVM per parameter combination so the kernel call site stays
 * monomorphic; do not run with {@code -f 0}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class CodeScanBenchmark {

  /** Codes scored per invocation, for both kernels. */
  public static final int CODES = 4096;

  /** Codes per {@code adc8} call: {@code IvfPqIndex.ADC_BATCH}. */
  public static final int ADC_BATCH = 256;

  /** Fast-scan blocks per invocation: {@value #CODES} / 64. */
  public static final int BLOCKS = CODES / FastScanLayout.BLOCK;

  static KernelSupport kernels(String impl) {
    return switch (impl) {
      case "scalar" -> KernelProvider.scalar();
      case "panama" -> KernelProvider.panama();
      default -> throw new IllegalArgumentException("impl must be scalar or panama: " + impl);
    };
  }

  /** An 8-bit list: {@value #CODES} codes of {@code m} random bytes and a Gaussian table. */
  @State(Scope.Thread)
  public static class Adc8State {

    @Param({"scalar", "panama"})
    public String impl;

    @Param({"32", "48"})
    public int m;

    KernelSupport kernels;
    /** {@value #CODES} x {@code m} bytes, contiguous, as {@code IvfPqIndex} stores 8-bit lists. */
    byte[] codes;
    /** {@code m x 256} floats, entry {@code (s, c)} at {@code s * 256 + c}. */
    float[] lut;
    /** The scores of the last batch scored. */
    final float[] out = new float[ADC_BATCH];

    @Setup(Level.Trial)
    public void setup() {
      kernels = kernels(impl);
      if (m <= 0) {
        throw new IllegalArgumentException("m must be positive: " + m);
      }
      SplittableRandom random = new SplittableRandom(KernelBenchmark.SEED);
      codes = new byte[CODES * m];
      random.nextBytes(codes);
      lut = new float[m * 256];
      for (int i = 0; i < lut.length; i++) {
        lut[i] = (float) random.nextGaussian();
      }
    }
  }

  /** A 4-bit list: {@value #BLOCKS} fast-scan blocks, its byte tables and a threshold. */
  @State(Scope.Thread)
  public static class FastScanState {

    @Param({"scalar", "panama"})
    public String impl;

    @Param({"32", "48", "96"})
    public int m;

    /** {@code all}: every vector passes; {@code 1pct}: about 1% pass. */
    @Param({"all", "1pct"})
    public String keep;

    KernelSupport kernels;
    int pairs;
    int blockBytes;
    /** {@value #BLOCKS} blocks of {@code blockBytes}, random 4-bit codes. */
    byte[] codes;
    /** {@code m x 16} floats: the ADC table the byte tables quantize. */
    float[] lut;
    /** {@link QuantizedLut#tables()} of {@link #lut}. */
    byte[] tables;
    int threshold;
    /** The mask of each block, from the last invocation. */
    final long[] masks = new long[BLOCKS];
    /** The byte sums of the last block. */
    final short[] sums = new short[64];

    @Setup(Level.Trial)
    public void setup() {
      kernels = kernels(impl);
      if (m <= 0) {
        throw new IllegalArgumentException("m must be positive: " + m);
      }
      SplittableRandom random = new SplittableRandom(KernelBenchmark.SEED);
      pairs = FastScanLayout.pairs(m);
      blockBytes = FastScanLayout.blockBytes(m);
      codes = new byte[BLOCKS * blockBytes];
      for (int v = 0; v < CODES; v++) {
        for (int s = 0; s < m; s++) {
          FastScanLayout.set(codes, v / 64 * blockBytes, v % 64, s, random.nextInt(16));
        }
      }
      // Sub-spaces of unequal spread, as after PCA-like data: the table uses its whole range.
      lut = new float[m * 16];
      for (int i = 0; i < lut.length; i++) {
        lut[i] = (float) (random.nextGaussian() * (1 + (i / 16) % 4));
      }
      QuantizedLut q = new QuantizedLut(m);
      q.quantize(lut);
      tables = q.tables();
      int[] sums = byteSums(codes, m, tables);
      Arrays.sort(sums);
      threshold =
          switch (keep) {
            case "all" -> Math.max(1, sums[0]);
            case "1pct" -> sums[CODES - CODES / 100];
            default -> throw new IllegalArgumentException("keep must be all or 1pct: " + keep);
          };
    }
  }

  /** An 8-bit list in {@link FastScan8Layout}: {@value #BLOCKS} blocks, byte tables, threshold. */
  @State(Scope.Thread)
  public static class FastScan8State {

    @Param({"scalar", "panama"})
    public String impl;

    @Param({"32", "48"})
    public int m;

    /** {@code all}: every vector passes; {@code 1pct}: about 1% pass. */
    @Param({"all", "1pct"})
    public String keep;

    KernelSupport kernels;
    int blockBytes;
    byte[] codes;
    byte[] tables;
    int threshold;
    final long[] masks = new long[BLOCKS];
    final short[] sums = new short[64];

    @Setup(Level.Trial)
    public void setup() {
      kernels = kernels(impl);
      if (m <= 0) {
        throw new IllegalArgumentException("m must be positive: " + m);
      }
      SplittableRandom random = new SplittableRandom(KernelBenchmark.SEED);
      blockBytes = FastScan8Layout.blockBytes(m);
      codes = new byte[BLOCKS * blockBytes];
      random.nextBytes(codes);
      float[] lut = new float[m * 256];
      for (int i = 0; i < lut.length; i++) {
        lut[i] = (float) (random.nextGaussian() * (1 + (i / 256) % 4));
      }
      QuantizedLut q = new QuantizedLut(m, 256);
      q.quantize(lut);
      tables = q.tables();
      int[] sums = byteSums8(codes, m, tables);
      Arrays.sort(sums);
      threshold =
          switch (keep) {
            case "all" -> Math.max(1, sums[0]);
            case "1pct" -> sums[CODES - CODES / 100];
            default -> throw new IllegalArgumentException("keep must be all or 1pct: " + keep);
          };
    }
  }

  /** The 16-bit sum of every 8-bit vector, read one code at a time: the plain reference. */
  static int[] byteSums8(byte[] codes, int m, byte[] tables) {
    int blockBytes = FastScan8Layout.blockBytes(m);
    int[] sums = new int[CODES];
    for (int v = 0; v < CODES; v++) {
      for (int s = 0; s < m; s++) {
        sums[v] += tables[s * 256 + FastScan8Layout.get(codes, v / 64 * blockBytes, v % 64, s)]
            & 0xFF;
      }
    }
    return sums;
  }

  /** The 16-bit sum of every vector, read one code at a time: the plain reference. */
  static int[] byteSums(byte[] codes, int m, byte[] tables) {
    int blockBytes = FastScanLayout.blockBytes(m);
    int[] sums = new int[CODES];
    for (int v = 0; v < CODES; v++) {
      for (int s = 0; s < m; s++) {
        int c = FastScanLayout.get(codes, v / 64 * blockBytes, v % 64, s);
        sums[v] += tables[(s >>> 2) * 64 + (s & 3) * 16 + c] & 0xFF;
      }
    }
    return sums;
  }

  /**
   * Scores the list in batches of {@value #ADC_BATCH}; returns one score of each batch, from a
   * different position each time (0, 17, ..., 255), so the output is used but not summed.
   */
  @Benchmark
  @OperationsPerInvocation(CODES)
  public float adc8(Adc8State state) {
    KernelSupport k = state.kernels;
    byte[] codes = state.codes;
    float[] lut = state.lut;
    float[] out = state.out;
    int m = state.m;
    float checksum = 0;
    for (int b = 0; b < CODES / ADC_BATCH; b++) {
      k.adc8(codes, b * ADC_BATCH * m, ADC_BATCH, m, lut, out);
      checksum += out[(b * 17) & (ADC_BATCH - 1)];
    }
    return checksum;
  }

  /** Filters every block; returns how many vectors passed and keeps the masks in the state. */
  @Benchmark
  @OperationsPerInvocation(CODES)
  public long fastScan4(FastScanState state) {
    KernelSupport k = state.kernels;
    byte[] codes = state.codes;
    byte[] tables = state.tables;
    long[] masks = state.masks;
    int pairs = state.pairs;
    int blockBytes = state.blockBytes;
    int threshold = state.threshold;
    long kept = 0;
    for (int b = 0, off = 0; b < BLOCKS; b++, off += blockBytes) {
      long mask = k.fastScan4(codes, off, pairs, tables, threshold, state.sums);
      masks[b] = mask;
      kept += Long.bitCount(mask);
    }
    return kept;
  }

  /** Filters every 8-bit block; returns how many vectors passed and keeps the masks. */
  @Benchmark
  @OperationsPerInvocation(CODES)
  public long fastScan8(FastScan8State state) {
    KernelSupport k = state.kernels;
    byte[] codes = state.codes;
    byte[] tables = state.tables;
    long[] masks = state.masks;
    int m = state.m;
    int blockBytes = state.blockBytes;
    int threshold = state.threshold;
    long kept = 0;
    for (int b = 0, off = 0; b < BLOCKS; b++, off += blockBytes) {
      long mask = k.fastScan8(codes, off, m, tables, threshold, state.sums);
      masks[b] = mask;
      kept += Long.bitCount(mask);
    }
    return kept;
  }
}
