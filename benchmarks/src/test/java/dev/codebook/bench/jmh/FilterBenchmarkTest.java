package dev.codebook.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.filter.AttributeValue;
import dev.codebook.index.filter.AttributeValue.BoolValue;
import dev.codebook.index.filter.AttributeValue.FloatValue;
import dev.codebook.index.filter.AttributeValue.IntValue;
import dev.codebook.index.filter.AttributeValue.StringListValue;
import dev.codebook.index.filter.AttributeValue.StringValue;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.roaringbitmap.RoaringBitmap;

/** Every {@link FilterBenchmark} filter accepts exactly the rows a row-by-row check accepts. */
class FilterBenchmarkTest {

  static String lang(Map<String, AttributeValue> m) {
    return ((StringValue) m.get("lang")).value();
  }

  static long year(Map<String, AttributeValue> m) {
    return ((IntValue) m.get("year")).value();
  }

  static double price(Map<String, AttributeValue> m) {
    return ((FloatValue) m.get("price")).value();
  }

  @Test
  void everyFilterMatchesARowByRowCheck() {
    Map<String, Predicate<Map<String, AttributeValue>>> cases = Map.of(
        "lang = l3", m -> lang(m).equals("l3"),
        "year >= 2018", m -> year(m) >= 2018,
        "price < 1.0", m -> price(m) < 1.0,
        "tags CONTAINS t7", m -> ((StringListValue) m.get("tags")).values().contains("t7"),
        "year IN (1960, 1970, 1980, 1990, 2000)", m -> year(m) % 10 == 0 && year(m) <= 2000
            && year(m) >= 1960,
        "lang = l3 AND year >= 2018 AND NOT flag = true", m -> lang(m).equals("l3")
            && year(m) >= 2018 && !((BoolValue) m.get("flag")).value(),
        "lang IN (l1, l2) OR price > 50", m -> lang(m).equals("l1") || lang(m).equals("l2")
            || price(m) > 50);
    for (var e : cases.entrySet()) {
      FilterBenchmark b = new FilterBenchmark();
      b.n = 20_000;
      b.filter = e.getKey();
      b.setup();
      RoaringBitmap expected = new RoaringBitmap();
      for (int i = 0; i < b.n; i++) {
        if (e.getValue().test(FilterBenchmark.row(i))) {
          expected.add(i);
        }
      }
      assertTrue(expected.getCardinality() > 0, e.getKey());
      assertEquals(expected, b.evaluate(), e.getKey());
    }
  }
}
