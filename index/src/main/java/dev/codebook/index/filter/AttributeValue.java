package dev.codebook.index.filter;

import java.util.List;
import java.util.Objects;

/**
 * One attribute of a vector, as the attribute index and filters see it: a string, a 64-bit
 * integer, a double, a boolean or a list of strings. Integers and doubles compare with each
 * other numerically; the other kinds compare only with their own.
 */
public sealed interface AttributeValue {

  /** A string. */
  record StringValue(String value) implements AttributeValue {
    public StringValue {
      Objects.requireNonNull(value, "value");
    }
  }

  /** A 64-bit integer. */
  record IntValue(long value) implements AttributeValue {}

  /** A double; NaN is not a value (filters reject it, {@link AttributeIndex} skips it). */
  record FloatValue(double value) implements AttributeValue {}

  /** A boolean. */
  record BoolValue(boolean value) implements AttributeValue {}

  /** A list of strings, e.g. tags: filters test membership with {@link Filter.Contains}. */
  record StringListValue(List<String> values) implements AttributeValue {
    public StringListValue {
      values = List.copyOf(values);
    }
  }

  static AttributeValue of(String value) {
    return new StringValue(value);
  }

  static AttributeValue of(long value) {
    return new IntValue(value);
  }

  static AttributeValue of(double value) {
    return new FloatValue(value);
  }

  static AttributeValue of(boolean value) {
    return new BoolValue(value);
  }

  static AttributeValue ofList(List<String> values) {
    return new StringListValue(values);
  }

  /** Whether this is an integer or a double. */
  default boolean isNumber() {
    return this instanceof IntValue || this instanceof FloatValue;
  }

  /** The kind's name, for messages: string, int, float, bool, string list. */
  default String kind() {
    return switch (this) {
      case StringValue s -> "string";
      case IntValue i -> "int";
      case FloatValue f -> "float";
      case BoolValue b -> "bool";
      case StringListValue l -> "string list";
    };
  }
}
