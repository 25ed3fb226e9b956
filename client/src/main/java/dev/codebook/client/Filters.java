package dev.codebook.client;

import dev.codebook.api.v1.AttributeValue;
import dev.codebook.api.v1.Filter;
import dev.codebook.api.v1.Filter.Comparison.Operator;
import java.util.Objects;

/**
 * Factories of {@link SearchFilter}s. Values are {@link String}, {@link Long} or {@link Integer},
 * {@link Double} or {@link Float}, or {@link Boolean}; numbers compare across int and float.
 * A vector without the attribute never matches a comparison. The server checks the filter and
 * answers INVALID_ARGUMENT naming the field for a malformed one.
 */
public final class Filters {

  private Filters() {}

  /** {@code attribute == value}. */
  public static SearchFilter eq(String attribute, Object value) {
    return compare(attribute, Operator.EQ, value);
  }

  /** The attribute is present and differs from {@code value}. */
  public static SearchFilter ne(String attribute, Object value) {
    return compare(attribute, Operator.NE, value);
  }

  /** {@code attribute < value}. */
  public static SearchFilter lessThan(String attribute, Number value) {
    return compare(attribute, Operator.LT, value);
  }

  /** {@code attribute <= value}. */
  public static SearchFilter atMost(String attribute, Number value) {
    return compare(attribute, Operator.LE, value);
  }

  /** {@code attribute > value}. */
  public static SearchFilter greaterThan(String attribute, Number value) {
    return compare(attribute, Operator.GT, value);
  }

  /** {@code attribute >= value}. */
  public static SearchFilter atLeast(String attribute, Number value) {
    return compare(attribute, Operator.GE, value);
  }

  /** {@code lower <= attribute <= upper}; a null bound is open. */
  public static SearchFilter range(String attribute, Number lower, Number upper) {
    return range(attribute, lower, true, upper, true);
  }

  /** A range with each bound inclusive or not; a null bound is open. */
  public static SearchFilter range(String attribute, Number lower, boolean lowerInclusive,
      Number upper, boolean upperInclusive) {
    Filter.Range.Builder r = Filter.Range.newBuilder().setAttribute(attribute)
        .setLowerExclusive(!lowerInclusive).setUpperExclusive(!upperInclusive);
    if (lower != null) {
      r.setLower(value(attribute, lower));
    }
    if (upper != null) {
      r.setUpper(value(attribute, upper));
    }
    return new SearchFilter(Filter.newBuilder().setRange(r).build());
  }

  /** The attribute equals one of {@code values}. */
  public static SearchFilter in(String attribute, Object... values) {
    Filter.In.Builder b = Filter.In.newBuilder().setAttribute(attribute);
    for (Object v : values) {
      b.addValues(value(attribute, v));
    }
    return new SearchFilter(Filter.newBuilder().setInList(b).build());
  }

  /** The string-list attribute holds {@code value}. */
  public static SearchFilter contains(String attribute, String value) {
    return new SearchFilter(Filter.newBuilder().setContains(Filter.Contains.newBuilder()
        .setAttribute(attribute).setValue(value)).build());
  }

  /** The attribute is present. */
  public static SearchFilter exists(String attribute) {
    return new SearchFilter(Filter.newBuilder().setExists(Filter.Exists.newBuilder()
        .setAttribute(attribute)).build());
  }

  /** All of {@code filters} match. */
  public static SearchFilter all(SearchFilter first, SearchFilter... rest) {
    return first.and(rest);
  }

  /** Any of {@code filters} matches. */
  public static SearchFilter any(SearchFilter first, SearchFilter... rest) {
    return first.or(rest);
  }

  /** {@code filter} does not match. */
  public static SearchFilter not(SearchFilter filter) {
    return filter.not();
  }

  /**
   * A filter in the server's text syntax, e.g. {@code lang = "en" AND year >= 2020 AND tags
   * CONTAINS new}; see {@code codebook.v1.Filter.expression}.
   */
  public static SearchFilter parse(String expression) {
    Objects.requireNonNull(expression, "expression");
    return new SearchFilter(Filter.newBuilder().setExpression(expression).build());
  }

  private static SearchFilter compare(String attribute, Operator op, Object value) {
    return new SearchFilter(Filter.newBuilder().setComparison(Filter.Comparison.newBuilder()
        .setAttribute(attribute).setOp(op).setValue(value(attribute, value))).build());
  }

  private static AttributeValue value(String attribute, Object value) {
    if (value instanceof java.util.List<?>) {
      throw new IllegalArgumentException("attribute '" + attribute
          + "': compare with one value; test list attributes with Filters.contains");
    }
    return VectorRecord.attribute(attribute, value);
  }
}
