package dev.codebook.bench.jmh;

import dev.codebook.index.filter.AttributeIndex;
import dev.codebook.index.filter.AttributeValue;
import dev.codebook.index.filter.Filter;
import dev.codebook.index.filter.FilterParser;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.roaringbitmap.RoaringBitmap;

/**
 * {@link AttributeIndex#evaluate}: a filter turned into the bitmap of the ordinals it accepts,
 * over {@code n} vectors with random attributes: {@code lang} (10 strings), {@code year} (76
 * ints: postings), {@code price} (uniform doubles: column scan), {@code tags} (3 of 50 strings)
 * and {@code flag} (bool). Microseconds per evaluation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1)
public class FilterBenchmark {

  @Param({"1000000"})
  public int n;

  @Param({
    "lang = l3",
    "year >= 2018",
    "price < 1.0",
    "tags CONTAINS t7",
    "year IN (1960, 1970, 1980, 1990, 2000)",
    "lang = l3 AND year >= 2018 AND NOT flag = true",
    "lang IN (l1, l2) OR price > 50"
  })
  public String filter;

  AttributeIndex index;
  Filter parsed;

  /** The attributes of row {@code i} (seeded by the row, so tests can recompute them). */
  static Map<String, AttributeValue> row(int i) {
    SplittableRandom r = new SplittableRandom(i);
    return Map.of(
        "lang", AttributeValue.of("l" + r.nextInt(10)),
        "year", AttributeValue.of(1950L + r.nextInt(76)),
        "price", AttributeValue.of(r.nextDouble() * 100),
        "tags", AttributeValue.ofList(List.of("t" + r.nextInt(50), "t" + r.nextInt(50),
            "t" + r.nextInt(50))),
        "flag", AttributeValue.of(r.nextBoolean()));
  }

  @Setup(Level.Trial)
  public void setup() {
    index = new AttributeIndex();
    for (int i = 0; i < n; i++) {
      index.add(i, row(i));
    }
    parsed = FilterParser.parse(filter);
  }

  @Benchmark
  public RoaringBitmap evaluate() {
    return index.evaluate(parsed);
  }
}
