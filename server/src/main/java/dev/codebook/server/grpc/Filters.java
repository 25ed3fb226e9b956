package dev.codebook.server.grpc;

import static dev.codebook.server.collection.InvalidFieldException.INVALID_FILTER;
import static dev.codebook.server.collection.InvalidFieldException.MISSING_FIELD;
import static dev.codebook.server.collection.InvalidFieldException.OUT_OF_RANGE;

import dev.codebook.api.v1.Filter.Comparison;
import dev.codebook.index.filter.AttributeValue;
import dev.codebook.index.filter.Filter;
import dev.codebook.index.filter.FilterException;
import dev.codebook.index.filter.FilterParser;
import dev.codebook.server.collection.Attributes;
import dev.codebook.server.collection.InvalidFieldException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Converts a request's {@code codebook.v1.Filter} into the index's {@link Filter}, remembering
 * the request path of every node ({@code filter.all.filters[1].range.lower}) so that errors found
 * now (malformed) and at search time (a value kind that never fits the attribute, {@link
 * FilterException}) both name the field to fix.
 */
final class Filters {

  /** Most values in one IN list. */
  static final int MAX_IN_VALUES = 10_000;

  private final IdentityHashMap<Filter, String> paths = new IdentityHashMap<>();
  private final Filter filter;

  private Filters(String field, dev.codebook.api.v1.Filter proto) {
    this.filter = convert(field, proto, 1);
  }

  /** The filter in {@code field}. */
  static Filters of(String field, dev.codebook.api.v1.Filter proto) {
    return new Filters(field, proto);
  }

  Filter filter() {
    return filter;
  }

  /** The search-time error {@code e} as INVALID_ARGUMENT naming the node's field. */
  InvalidFieldException toInvalidField(FilterException e) {
    String path = paths.getOrDefault(e.node(), "filter");
    return new InvalidFieldException(path, INVALID_FILTER, path + ": " + e.getMessage());
  }

  private Filter convert(String path, dev.codebook.api.v1.Filter f, int depth) {
    if (depth > Filter.MAX_DEPTH) {
      throw invalid(path, "filter nests deeper than " + Filter.MAX_DEPTH + " levels");
    }
    Filter out = switch (f.getKindCase()) {
      case COMPARISON -> comparison(path + ".comparison", f.getComparison());
      case RANGE -> range(path + ".range", f.getRange());
      case IN_LIST -> in(path + ".in_list", f.getInList());
      case CONTAINS -> {
        String p = path + ".contains";
        String a = attribute(p, f.getContains().getAttribute());
        yield build(p, () -> new Filter.Contains(a, f.getContains().getValue()));
      }
      case EXISTS -> {
        String a = attribute(path + ".exists", f.getExists().getAttribute());
        yield build(path + ".exists", () -> new Filter.Exists(a));
      }
      case ALL -> {
        List<Filter> children = children(path + ".all", f.getAll(), depth);
        yield build(path + ".all", () -> new Filter.And(children));
      }
      case ANY -> {
        List<Filter> children = children(path + ".any", f.getAny(), depth);
        yield build(path + ".any", () -> new Filter.Or(children));
      }
      case NEGATE -> {
        Filter inner = convert(path + ".negate", f.getNegate(), depth + 1);
        yield build(path + ".negate", () -> new Filter.Not(inner));
      }
      case EXPRESSION -> expression(path + ".expression", f.getExpression(), depth);
      case KIND_NOT_SET -> throw new InvalidFieldException(path, MISSING_FIELD, path
          + " is empty; set one of comparison, range, in_list, contains, exists, all, any,"
          + " negate or expression");
    };
    // Errors name the predicate's own field; a parsed expression registered its nodes already.
    paths.putIfAbsent(out, path + "." + f.getKindCase().name().toLowerCase(Locale.ROOT));
    return out;
  }

  private List<Filter> children(String path, dev.codebook.api.v1.Filter.FilterList list,
      int depth) {
    if (list.getFiltersCount() == 0) {
      throw new InvalidFieldException(path + ".filters", MISSING_FIELD,
          path + ".filters is empty; give at least one filter");
    }
    List<Filter> out = new ArrayList<>(list.getFiltersCount());
    for (int i = 0; i < list.getFiltersCount(); i++) {
      out.add(convert(path + ".filters[" + i + "]", list.getFilters(i), depth + 1));
    }
    return out;
  }

  private Filter comparison(String path, Comparison c) {
    String a = attribute(path, c.getAttribute());
    AttributeValue v = value(path + ".value", c.hasValue() ? c.getValue() : null, false);
    return build(path, () -> switch (c.getOp()) {
      case EQ -> new Filter.Eq(a, v);
      case NE -> new Filter.Ne(a, v);
      case LT -> new Filter.Range(a, null, true, number(path + ".value", v), false);
      case LE -> new Filter.Range(a, null, true, number(path + ".value", v), true);
      case GT -> new Filter.Range(a, number(path + ".value", v), false, null, true);
      case GE -> new Filter.Range(a, number(path + ".value", v), true, null, true);
      case OPERATOR_UNSPECIFIED, UNRECOGNIZED -> throw new InvalidFieldException(path + ".op",
          INVALID_FILTER, path + ".op is " + (c.getOp() == Comparison.Operator.UNRECOGNIZED
              ? "an unknown operator (" + c.getOpValue() + ")" : "not set")
              + "; use EQ, NE, LT, LE, GT or GE");
    });
  }

  private Filter range(String path, dev.codebook.api.v1.Filter.Range r) {
    String a = attribute(path, r.getAttribute());
    if (!r.hasLower() && !r.hasUpper()) {
      throw new InvalidFieldException(path, MISSING_FIELD,
          path + " has no bound; set lower, upper or both");
    }
    AttributeValue lo = r.hasLower() ? number(path + ".lower", value(path + ".lower", r.getLower(), true)) : null;
    AttributeValue hi = r.hasUpper() ? number(path + ".upper", value(path + ".upper", r.getUpper(), true)) : null;
    return build(path, () -> new Filter.Range(a, lo, !r.getLowerExclusive(), hi,
        !r.getUpperExclusive()));
  }

  private Filter in(String path, dev.codebook.api.v1.Filter.In in) {
    String a = attribute(path, in.getAttribute());
    int n = in.getValuesCount();
    if (n == 0) {
      throw new InvalidFieldException(path + ".values", MISSING_FIELD,
          path + ".values is empty; give at least one value");
    }
    if (n > MAX_IN_VALUES) {
      throw new InvalidFieldException(path + ".values", OUT_OF_RANGE,
          path + ".values has " + n + " values; at most " + MAX_IN_VALUES);
    }
    List<AttributeValue> values = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      values.add(value(path + ".values[" + i + "]", in.getValues(i), false));
    }
    return build(path + ".values", () -> new Filter.In(a, values));
  }

  private Filter expression(String path, String text, int depth) {
    Filter f = build(path, () -> FilterParser.parse(text));
    if (depth + Filter.depth(f) - 1 > Filter.MAX_DEPTH) {
      throw invalid(path, "filter nests deeper than " + Filter.MAX_DEPTH + " levels");
    }
    register(f, path);
    return f;
  }

  /** Every node of a parsed expression reports errors against the expression's field. */
  private void register(Filter f, String path) {
    paths.put(f, path);
    switch (f) {
      case Filter.And and -> and.filters().forEach(c -> register(c, path));
      case Filter.Or or -> or.filters().forEach(c -> register(c, path));
      case Filter.Not not -> register(not.filter(), path);
      default -> { }
    }
  }

  private static String attribute(String path, String name) {
    if (name.isEmpty()) {
      throw new InvalidFieldException(path + ".attribute", MISSING_FIELD,
          path + ".attribute is empty; name the attribute to compare");
    }
    return name;
  }

  private static AttributeValue value(String path, dev.codebook.api.v1.AttributeValue v,
      boolean numberOnly) {
    AttributeValue out = v == null ? null : Attributes.toIndex(v);
    if (out == null) {
      throw new InvalidFieldException(path, MISSING_FIELD, path + " has no value; set one of "
          + (numberOnly ? "int_value or float_value" : "string_value, int_value, float_value or bool_value"));
    }
    if (out instanceof AttributeValue.FloatValue d && Double.isNaN(d.value())) {
      throw new InvalidFieldException(path, INVALID_FILTER, path + " is NaN, which compares with nothing");
    }
    if (out instanceof AttributeValue.StringListValue) {
      throw new InvalidFieldException(path, INVALID_FILTER,
          path + " is a string list; test list attributes with contains");
    }
    return out;
  }

  private static AttributeValue number(String path, AttributeValue v) {
    if (!v.isNumber()) {
      throw new InvalidFieldException(path, INVALID_FILTER,
          path + " is a " + v.kind() + "; ordering comparisons and ranges take int_value or float_value");
    }
    return v;
  }

  /** Builds a node, turning its constructor's complaint into an error naming {@code path}. */
  private static Filter build(String path, Supplier<Filter> make) {
    try {
      return make.get();
    } catch (InvalidFieldException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw invalid(path, e.getMessage());
    }
  }

  private static InvalidFieldException invalid(String path, String message) {
    return new InvalidFieldException(path, INVALID_FILTER, path + ": " + message);
  }
}
