package dev.codebook.index.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FilterTest {

  static void rejects(String fragment, org.junit.jupiter.api.function.Executable e) {
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
    assertTrue(ex.getMessage().contains(fragment), ex.getMessage());
  }

  @Test
  void malformedFiltersAreRejectedWithAReason() {
    rejects("empty", () -> Filter.eq("", "x"));
    rejects("at least one value", () -> new Filter.In("a", List.of()));
    rejects("one kind", () -> new Filter.In("a",
        List.of(AttributeValue.of("x"), AttributeValue.of(1L))));
    rejects("NaN", () -> new Filter.Eq("a", AttributeValue.of(Double.NaN)));
    rejects("NaN", () -> new Filter.Range("a", AttributeValue.of(Double.NaN), true, null, true));
    rejects("lower or an upper", () -> new Filter.Range("a", null, true, null, true));
    rejects("exceeds upper", () -> Filter.between("a", 5, 4));
    rejects("ranges compare numbers", () -> new Filter.Range("a", AttributeValue.of("x"), true, null, true));
    rejects("CONTAINS", () -> new Filter.Eq("a", AttributeValue.ofList(List.of("x"))));
    rejects("at least one filter", () -> new Filter.And(List.of()));
  }

  @Test
  void nestingIsBoundedByMaxDepth() {
    Filter f = Filter.eq("a", "x");
    for (int i = 1; i < Filter.MAX_DEPTH; i++) {
      f = Filter.not(f);
    }
    assertEquals(Filter.MAX_DEPTH, Filter.depth(f));
    Filter deep = f;
    rejects("deeper than " + Filter.MAX_DEPTH, () -> Filter.not(deep));
    rejects("deeper than " + Filter.MAX_DEPTH, () -> Filter.and(deep));
  }
}
