package dev.codebook.index.filter;

import dev.codebook.index.filter.AttributeValue.BoolValue;
import dev.codebook.index.filter.AttributeValue.StringListValue;
import dev.codebook.index.filter.AttributeValue.StringValue;
import java.util.List;
import java.util.Objects;

/**
 * A predicate over a vector's attributes, evaluated by {@link AttributeIndex#evaluate} into the
 * ordinals it accepts. The constructors reject malformed filters with an {@link
 * IllegalArgumentException} saying what is wrong, so every instance is well formed.
 *
 * <p>Semantics (a vector without the attribute, or with a value of another kind, never matches a
 * comparison): {@link Eq}, {@link Ne} and {@link In} compare strings with strings, booleans with
 * booleans, and numbers (int or float) numerically; {@link Ne} matches vectors that have the
 * attribute with another value, while {@code Not(Eq)} also matches those without it. {@link Range}
 * compares numbers. {@link Contains} tests membership in a string-list attribute. {@link Exists}
 * matches any value.
 */
public sealed interface Filter {

  /** Deepest nesting of {@link And}, {@link Or} and {@link Not} accepted. */
  int MAX_DEPTH = 32;

  /** The attribute equals {@code value} (a string, number or bool; not a list). */
  record Eq(String attribute, AttributeValue value) implements Filter {
    public Eq {
      checkAttribute(attribute);
      checkScalar(value, "value");
    }
  }

  /** The attribute is present with a comparable value other than {@code value}. */
  record Ne(String attribute, AttributeValue value) implements Filter {
    public Ne {
      checkAttribute(attribute);
      checkScalar(value, "value");
    }
  }

  /**
   * A numeric range; a null bound is open. At least one bound is given, both are numbers (not
   * NaN), and lower is at most upper.
   */
  record Range(String attribute, AttributeValue lower, boolean lowerInclusive,
      AttributeValue upper, boolean upperInclusive) implements Filter {
    public Range {
      checkAttribute(attribute);
      if (lower == null && upper == null) {
        throw new IllegalArgumentException("a range needs a lower or an upper bound");
      }
      if (lower != null) {
        checkNumber(lower, "lower bound");
      }
      if (upper != null) {
        checkNumber(upper, "upper bound");
      }
      if (lower != null && upper != null && AttributeIndex.compare(lower, upper) > 0) {
        throw new IllegalArgumentException(
            "range lower bound " + AttributeIndex.text(lower) + " exceeds upper bound "
                + AttributeIndex.text(upper));
      }
    }
  }

  /** The attribute equals one of {@code values}: at least one, all strings, all numbers or all bools. */
  record In(String attribute, List<AttributeValue> values) implements Filter {
    public In {
      checkAttribute(attribute);
      values = List.copyOf(values);
      if (values.isEmpty()) {
        throw new IllegalArgumentException("IN needs at least one value");
      }
      AttributeValue first = values.get(0);
      for (int i = 0; i < values.size(); i++) {
        AttributeValue v = values.get(i);
        checkScalar(v, "values[" + i + "]");
        if (v.isNumber() != first.isNumber() || (!v.isNumber() && v.getClass() != first.getClass())) {
          throw new IllegalArgumentException("IN values must be of one kind: values[0] is a "
              + first.kind() + ", values[" + i + "] a " + v.kind());
        }
      }
    }
  }

  /** The string-list attribute holds {@code value}. */
  record Contains(String attribute, String value) implements Filter {
    public Contains {
      checkAttribute(attribute);
      Objects.requireNonNull(value, "value");
    }
  }

  /** The attribute is present, with any value. */
  record Exists(String attribute) implements Filter {
    public Exists {
      checkAttribute(attribute);
    }
  }

  /** Every filter matches; at least one. */
  record And(List<Filter> filters) implements Filter {
    public And {
      filters = checkChildren(filters, "AND");
    }
  }

  /** At least one filter matches; at least one. */
  record Or(List<Filter> filters) implements Filter {
    public Or {
      filters = checkChildren(filters, "OR");
    }
  }

  /** The filter does not match (vectors without the attribute included). */
  record Not(Filter filter) implements Filter {
    public Not {
      Objects.requireNonNull(filter, "filter");
      if (depth(filter) >= MAX_DEPTH) {
        throw new IllegalArgumentException("filter nests deeper than " + MAX_DEPTH + " levels");
      }
    }
  }

  static Filter eq(String attribute, String value) {
    return new Eq(attribute, new StringValue(value));
  }

  static Filter eq(String attribute, long value) {
    return new Eq(attribute, AttributeValue.of(value));
  }

  static Filter eq(String attribute, boolean value) {
    return new Eq(attribute, new BoolValue(value));
  }

  /** {@code lower <= attribute <= upper}; a null bound is open. */
  static Filter between(String attribute, Number lower, Number upper) {
    return new Range(attribute, number(lower), true, number(upper), true);
  }

  static Filter and(Filter... filters) {
    return new And(List.of(filters));
  }

  static Filter or(Filter... filters) {
    return new Or(List.of(filters));
  }

  static Filter not(Filter filter) {
    return new Not(filter);
  }

  /** Nesting depth: 1 for a comparison. */
  static int depth(Filter f) {
    return switch (f) {
      case And a -> 1 + a.filters().stream().mapToInt(Filter::depth).max().orElse(0);
      case Or o -> 1 + o.filters().stream().mapToInt(Filter::depth).max().orElse(0);
      case Not n -> 1 + depth(n.filter());
      default -> 1;
    };
  }

  private static AttributeValue number(Number n) {
    if (n == null) {
      return null;
    }
    return n instanceof Double || n instanceof Float
        ? AttributeValue.of(n.doubleValue()) : AttributeValue.of(n.longValue());
  }

  private static void checkAttribute(String attribute) {
    if (attribute == null || attribute.isEmpty()) {
      throw new IllegalArgumentException("attribute name is empty");
    }
  }

  private static void checkScalar(AttributeValue v, String what) {
    if (v == null) {
      throw new IllegalArgumentException(what + " is missing");
    }
    if (v instanceof StringListValue) {
      throw new IllegalArgumentException(
          what + " is a string list; compare list attributes with CONTAINS");
    }
    if (v instanceof AttributeValue.FloatValue f && Double.isNaN(f.value())) {
      throw new IllegalArgumentException(what + " is NaN, which equals nothing");
    }
  }

  private static void checkNumber(AttributeValue v, String what) {
    if (!v.isNumber()) {
      throw new IllegalArgumentException(
          what + " is a " + v.kind() + "; ranges compare numbers (int or float)");
    }
    if (v instanceof AttributeValue.FloatValue f && Double.isNaN(f.value())) {
      throw new IllegalArgumentException(what + " is NaN");
    }
  }

  private static List<Filter> checkChildren(List<Filter> filters, String op) {
    filters = List.copyOf(filters);
    if (filters.isEmpty()) {
      throw new IllegalArgumentException(op + " needs at least one filter");
    }
    for (Filter f : filters) {
      if (depth(f) >= MAX_DEPTH) {
        throw new IllegalArgumentException("filter nests deeper than " + MAX_DEPTH + " levels");
      }
    }
    return filters;
  }
}
