package dev.codebook.index.filter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.filter.AttributeValue.FloatValue;
import dev.codebook.index.filter.AttributeValue.IntValue;
import dev.codebook.index.filter.AttributeValue.StringValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.roaringbitmap.RoaringBitmap;

class AttributeIndexTest {

  /** Six documents covering every kind, one without attributes. */
  static AttributeIndex docs() {
    AttributeIndex idx = new AttributeIndex();
    idx.add(0, Map.of("lang", AttributeValue.of("en"), "year", AttributeValue.of(2019L),
        "score", AttributeValue.of(0.5), "draft", AttributeValue.of(false),
        "tags", AttributeValue.ofList(List.of("a", "b"))));
    idx.add(1, Map.of("lang", AttributeValue.of("de"), "year", AttributeValue.of(2020L),
        "score", AttributeValue.of(1.5), "draft", AttributeValue.of(true),
        "tags", AttributeValue.ofList(List.of("b"))));
    idx.add(2, Map.of("lang", AttributeValue.of("en"), "year", AttributeValue.of(2021L),
        "score", AttributeValue.of(2.0), "tags", AttributeValue.ofList(List.of())));
    idx.add(3, Map.of("lang", AttributeValue.of("fr"), "year", AttributeValue.of(2022L)));
    idx.add(4, Map.of());
    // a float year: numbers compare across int and float
    idx.add(5, Map.of("year", AttributeValue.of(2020.0), "score", AttributeValue.of(-1L)));
    return idx;
  }

  static int[] eval(AttributeIndex idx, Filter f) {
    return idx.evaluate(f).toArray();
  }

  static Filter range(String a, AttributeValue lo, boolean loInc, AttributeValue hi, boolean hiInc) {
    return new Filter.Range(a, lo, loInc, hi, hiInc);
  }

  @Test
  void equalityMatchesStringsBoolsAndNumbersAcrossIntAndFloat() {
    AttributeIndex idx = docs();
    assertArrayEquals(new int[] {0, 2}, eval(idx, Filter.eq("lang", "en")));
    assertArrayEquals(new int[] {}, eval(idx, Filter.eq("lang", "xx")));
    assertArrayEquals(new int[] {1}, eval(idx, Filter.eq("draft", true)));
    assertArrayEquals(new int[] {0}, eval(idx, Filter.eq("draft", false)));
    assertArrayEquals(new int[] {1, 5}, eval(idx, Filter.eq("year", 2020)));
    assertArrayEquals(new int[] {1, 5}, eval(idx, new Filter.Eq("year", AttributeValue.of(2020.0))));
    assertArrayEquals(new int[] {}, eval(idx, new Filter.Eq("year", AttributeValue.of(2020.5))));
    assertArrayEquals(new int[] {}, eval(idx, Filter.eq("missing", "x")));
  }

  @Test
  void notEqualNeedsTheAttributeWhileNotEqualsIncludesVectorsWithout() {
    AttributeIndex idx = docs();
    assertArrayEquals(new int[] {1, 3}, eval(idx, new Filter.Ne("lang", new StringValue("en"))));
    assertArrayEquals(new int[] {1, 3, 4, 5}, eval(idx, Filter.not(Filter.eq("lang", "en"))));
    assertArrayEquals(new int[] {0, 2, 3}, eval(idx, new Filter.Ne("year", new IntValue(2020))));
  }

  @Test
  void rangesHonourInclusiveAndExclusiveBoundsOnIntsAndFloats() {
    AttributeIndex idx = docs();
    IntValue y2020 = new IntValue(2020), y2021 = new IntValue(2021);
    assertArrayEquals(new int[] {1, 2, 5}, eval(idx, range("year", y2020, true, y2021, true)));
    assertArrayEquals(new int[] {2}, eval(idx, range("year", y2020, false, y2021, true)));
    assertArrayEquals(new int[] {1, 5}, eval(idx, range("year", y2020, true, y2021, false)));
    assertArrayEquals(new int[] {2, 3}, eval(idx, range("year", y2020, false, null, false)));
    assertArrayEquals(new int[] {0}, eval(idx, range("year", null, false, y2020, false)));
    // float bounds on int values, and int bounds on float values
    assertArrayEquals(new int[] {2, 3}, eval(idx, range("year", new FloatValue(2020.5), true, null, true)));
    assertArrayEquals(new int[] {0, 1, 5}, eval(idx, range("year", null, true, new FloatValue(2020.0), true)));
    assertArrayEquals(new int[] {1, 2}, eval(idx, range("score", new IntValue(1), true, new IntValue(2), true)));
    assertArrayEquals(new int[] {1}, eval(idx, range("score", new FloatValue(0.5), false, new FloatValue(2.0), false)));
    assertArrayEquals(new int[] {0, 1, 2, 5}, eval(idx, range("score", new FloatValue(Double.NEGATIVE_INFINITY), true, null, true)));
  }

  @Test
  void inMatchesAnyOfTheValues() {
    AttributeIndex idx = docs();
    assertArrayEquals(new int[] {0, 2, 3}, eval(idx, new Filter.In("lang",
        List.of(AttributeValue.of("en"), AttributeValue.of("fr"), AttributeValue.of("zz")))));
    assertArrayEquals(new int[] {0, 1, 3, 5}, eval(idx, new Filter.In("year",
        List.of(AttributeValue.of(2019L), AttributeValue.of(2022L), AttributeValue.of(2020.0)))));
    assertArrayEquals(new int[] {0, 1}, eval(idx, new Filter.In("draft",
        List.of(AttributeValue.of(true), AttributeValue.of(false)))));
  }

  @Test
  void containsTestsStringListMembershipAndExistsAnyValue() {
    AttributeIndex idx = docs();
    assertArrayEquals(new int[] {0, 1}, eval(idx, new Filter.Contains("tags", "b")));
    assertArrayEquals(new int[] {0}, eval(idx, new Filter.Contains("tags", "a")));
    assertArrayEquals(new int[] {0, 1, 2}, eval(idx, new Filter.Exists("tags")));
    assertArrayEquals(new int[] {0, 1, 2, 3, 5}, eval(idx, new Filter.Exists("year")));
  }

  @Test
  void andOrNotCombine() {
    AttributeIndex idx = docs();
    Filter enOrDe = Filter.or(Filter.eq("lang", "en"), Filter.eq("lang", "de"));
    assertArrayEquals(new int[] {0, 1, 2}, eval(idx, enOrDe));
    assertArrayEquals(new int[] {1, 2}, eval(idx,
        Filter.and(enOrDe, Filter.between("year", 2020, null))));
    assertArrayEquals(new int[] {0, 2}, eval(idx,
        Filter.and(enOrDe, Filter.not(Filter.eq("draft", true)))));
    assertArrayEquals(new int[] {3, 4, 5}, eval(idx, Filter.not(enOrDe)));
    assertArrayEquals(new int[] {1, 3, 4, 5}, eval(idx, Filter.and(Filter.not(Filter.eq("lang", "en")))));
  }

  @Test
  void evaluatingNeverChangesTheIndex() {
    AttributeIndex idx = docs();
    // Single-posting answers (one value, one-value ranges and INs) are intersected and
    // subtracted in place by AND: they must be copies.
    Filter[] singles = {Filter.eq("year", 2019), Filter.between("year", 2019, 2019),
        new Filter.In("year", List.of(AttributeValue.of(2019L))), Filter.eq("lang", "en"),
        new Filter.Contains("tags", "a"), Filter.eq("draft", false), new Filter.Exists("lang")};
    for (Filter f : singles) {
      int[] before = eval(idx, f);
      eval(idx, Filter.and(f, Filter.eq("lang", "de")));
      eval(idx, Filter.and(f, Filter.not(f)));
      eval(idx, Filter.or(f, Filter.eq("lang", "de")));
      assertArrayEquals(before, eval(idx, f), f.toString());
    }
  }

  @Test
  void removeAndReplaceUpdateEveryPosting() {
    AttributeIndex idx = docs();
    idx.remove(0);
    assertArrayEquals(new int[] {2}, eval(idx, Filter.eq("lang", "en")));
    assertArrayEquals(new int[] {1}, eval(idx, new Filter.Contains("tags", "b")));
    assertArrayEquals(new int[] {1, 2, 3, 5}, eval(idx, new Filter.Exists("year")));
    assertArrayEquals(new int[] {1, 2, 3, 4, 5}, eval(idx, Filter.not(Filter.eq("lang", "zz"))));
    idx.add(2, Map.of("lang", AttributeValue.of("de"), "tags", AttributeValue.ofList(List.of("c"))));
    assertArrayEquals(new int[] {}, eval(idx, Filter.eq("lang", "en")));
    assertArrayEquals(new int[] {1, 2}, eval(idx, Filter.eq("lang", "de")));
    assertArrayEquals(new int[] {1, 3, 5}, eval(idx, new Filter.Exists("year")));
    assertArrayEquals(new int[] {2}, eval(idx, new Filter.Contains("tags", "c")));
    assertEquals(5, idx.size());
  }

  @Test
  void aComparisonOfTheWrongKindIsReportedWithItsNode() {
    AttributeIndex idx = docs();
    Filter bad = Filter.eq("year", "2020");
    Filter whole = Filter.and(Filter.eq("lang", "en"), bad);
    FilterException e = assertThrows(FilterException.class, () -> idx.evaluate(whole));
    assertSame(bad, e.node());
    assertTrue(e.getMessage().contains("'year' holds int, float"), e.getMessage());
    FilterException list = assertThrows(FilterException.class, () -> idx.evaluate(Filter.eq("tags", "a")));
    assertTrue(list.getMessage().contains("CONTAINS"), list.getMessage());
    assertThrows(FilterException.class, () -> idx.evaluate(new Filter.Contains("lang", "en")));
    assertThrows(FilterException.class, () -> idx.evaluate(Filter.between("lang", 1, 2)));
    assertThrows(FilterException.class, () -> idx.evaluate(Filter.eq("lang", true)));
  }

  /** Every filter kind on random data against a per-row reference evaluation. */
  @Test
  void randomDataAgreesWithARowByRowEvaluation() {
    Random rnd = new Random(42);
    int n = 20_000;
    AttributeIndex idx = new AttributeIndex();
    List<Map<String, AttributeValue>> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Map<String, AttributeValue> m = new HashMap<>();
      if (rnd.nextInt(10) > 0) {
        m.put("c", AttributeValue.of("c" + rnd.nextInt(50)));
      }
      if (rnd.nextInt(10) > 0) {
        m.put("n", AttributeValue.of((long) rnd.nextInt(1000)));
      }
      m.put("x", AttributeValue.of(rnd.nextDouble()));
      rows.add(m);
      idx.add(i, m);
    }
    for (int i = 0; i < n; i += 7) {
      idx.remove(i);
    }
    check(idx, rows, Filter.eq("c", "c7"), m -> new StringValue("c7").equals(m.get("c")));
    check(idx, rows, Filter.between("n", 100, 199), m -> m.get("n") instanceof IntValue v
        && v.value() >= 100 && v.value() <= 199);
    check(idx, rows, Filter.between("n", 0, 600), m -> m.get("n") instanceof IntValue v
        && v.value() <= 600);
    check(idx, rows, new Filter.In("n", List.of(AttributeValue.of(5L), AttributeValue.of(7.0))),
        m -> m.get("n") instanceof IntValue v && (v.value() == 5 || v.value() == 7));
    check(idx, rows, new Filter.Range("x", null, false, new FloatValue(0.25), false),
        m -> ((FloatValue) m.get("x")).value() < 0.25);
    check(idx, rows, Filter.or(Filter.eq("c", "c1"), Filter.not(new Filter.Exists("n"))),
        m -> new StringValue("c1").equals(m.get("c")) || !m.containsKey("n"));
  }

  /** Past MAX_INT_POSTINGS distinct integers, the same answers come from the column scan. */
  @Test
  void highCardinalityIntegersAgreeWithARowByRowEvaluation() {
    int n = AttributeIndex.MAX_INT_POSTINGS + 5_000;
    AttributeIndex idx = new AttributeIndex();
    List<Map<String, AttributeValue>> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Map<String, AttributeValue> m = Map.of("n", AttributeValue.of((long) i * 3));
      rows.add(m);
      idx.add(i, m);
    }
    for (int i = 0; i < n; i += 7) {
      idx.remove(i);
    }
    check(idx, rows, Filter.eq("n", 300), m -> ((IntValue) m.get("n")).value() == 300);
    check(idx, rows, Filter.between("n", 1000, 1100), m -> ((IntValue) m.get("n")).value() >= 1000
        && ((IntValue) m.get("n")).value() <= 1100);
    check(idx, rows, new Filter.In("n", List.of(AttributeValue.of(3L), AttributeValue.of(30L))),
        m -> ((IntValue) m.get("n")).value() == 3 || ((IntValue) m.get("n")).value() == 30);
  }

  private static void check(AttributeIndex idx, List<Map<String, AttributeValue>> rows, Filter f,
      Predicate<Map<String, AttributeValue>> p) {
    RoaringBitmap expected = new RoaringBitmap();
    for (int i = 0; i < rows.size(); i++) {
      if (i % 7 != 0 && p.test(rows.get(i))) {
        expected.add(i);
      }
    }
    RoaringBitmap got = idx.evaluate(f);
    assertTrue(expected.getCardinality() > 0, "a test filter that matches something");
    assertEquals(expected, got, f.toString());
  }
}
