package dev.codebook.server.collection;

import dev.codebook.api.v1.AttributeValue;
import java.util.HashMap;
import java.util.Map;

/** Converts API attribute values into the index's ({@link dev.codebook.index.filter}). */
public final class Attributes {

  private Attributes() {}

  /** One vector's attributes; values without a kind are skipped (upserts reject them). */
  public static Map<String, dev.codebook.index.filter.AttributeValue> toIndex(
      Map<String, AttributeValue> attributes) {
    if (attributes.isEmpty()) {
      return Map.of();
    }
    Map<String, dev.codebook.index.filter.AttributeValue> out =
        HashMap.newHashMap(attributes.size());
    for (Map.Entry<String, AttributeValue> e : attributes.entrySet()) {
      dev.codebook.index.filter.AttributeValue v = toIndex(e.getValue());
      if (v != null) {
        out.put(e.getKey(), v);
      }
    }
    return out;
  }

  /** One value, or null when none is set. */
  public static dev.codebook.index.filter.AttributeValue toIndex(AttributeValue v) {
    return switch (v.getKindCase()) {
      case STRING_VALUE -> dev.codebook.index.filter.AttributeValue.of(v.getStringValue());
      case INT_VALUE -> dev.codebook.index.filter.AttributeValue.of(v.getIntValue());
      case FLOAT_VALUE -> dev.codebook.index.filter.AttributeValue.of(v.getFloatValue());
      case BOOL_VALUE -> dev.codebook.index.filter.AttributeValue.of(v.getBoolValue());
      case STRING_LIST_VALUE ->
          dev.codebook.index.filter.AttributeValue.ofList(v.getStringListValue().getValuesList());
      case KIND_NOT_SET -> null;
    };
  }
}
