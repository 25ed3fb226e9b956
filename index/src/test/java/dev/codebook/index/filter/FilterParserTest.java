package dev.codebook.index.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FilterParserTest {

  @Test
  void parsesComparisonsWithAndBindingTighterThanOr() {
    assertEquals(Filter.and(Filter.eq("lang", "en"), Filter.between("year", 2020, null)),
        FilterParser.parse("lang = en AND year >= 2020"));
    assertEquals(Filter.or(Filter.eq("a", "x"), Filter.and(Filter.eq("b", true), Filter.eq("c", 3))),
        FilterParser.parse("a = 'x' or b == TRUE and c = 3"));
    assertEquals(Filter.and(Filter.or(Filter.eq("a", "x"), Filter.eq("b", "y")), Filter.not(Filter.eq("c", "z"))),
        FilterParser.parse("(a = \"x\" OR b = y) AND NOT c = z"));
  }

  @Test
  void parsesEveryOperator() {
    assertEquals(new Filter.Ne("a", AttributeValue.of("x y")), FilterParser.parse("a != \"x y\""));
    assertEquals(new Filter.Range("p", null, true, AttributeValue.of(2.5), false), FilterParser.parse("p < 2.5"));
    assertEquals(new Filter.Range("p", null, true, AttributeValue.of(-3L), true), FilterParser.parse("p <= -3"));
    assertEquals(new Filter.Range("p", AttributeValue.of(1e3), false, null, true), FilterParser.parse("p > 1e3"));
    assertEquals(new Filter.In("lang", List.of(AttributeValue.of("en"), AttributeValue.of("de"))),
        FilterParser.parse("lang IN (en, 'de')"));
    assertEquals(Filter.not(new Filter.In("n", List.of(AttributeValue.of(1L), AttributeValue.of(2L)))),
        FilterParser.parse("n not in (1, 2)"));
    assertEquals(new Filter.Contains("tags", "new"), FilterParser.parse("tags CONTAINS \"new\""));
    assertEquals(new Filter.Exists("meta.author"), FilterParser.parse("meta.author exists"));
    assertEquals(Filter.eq("odd name", "v"), FilterParser.parse("`odd name` = v"));
  }

  @Test
  void errorsNameTheColumn() {
    for (String[] c : new String[][] {
        {"", "empty"}, {"a =", "column 4"}, {"a ~ 1", "column 3"}, {"a = 1 b = 2", "column 7"},
        {"a IN ()", "column 7"}, {"(a = 1", "expected ')'"}, {"a = 'x", "unterminated"},
        {"a IN (1, 'x')", "one kind"}, {"a = nan", null}, {"x CONTAINS 3", "string"}}) {
      if (c[1] == null) {
        // a bare word is a string: nan is the string "nan", not a number
        assertEquals(Filter.eq("a", "nan"), FilterParser.parse(c[0]));
        continue;
      }
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> FilterParser.parse(c[0]), c[0]);
      assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
    }
  }
}
