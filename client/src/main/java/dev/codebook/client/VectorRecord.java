package dev.codebook.client;

import dev.codebook.api.v1.AttributeValue;
import dev.codebook.api.v1.StringList;
import dev.codebook.api.v1.Vector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A vector to upsert, or one read back: its id, values and optional attributes.
 *
 * <p>Attribute values are {@link String}, {@link Long} (or {@link Integer}), {@link Double} (or
 * {@link Float}), {@link Boolean} or a {@link List} of strings; read back, integers are {@code
 * Long} and floats {@code Double}. The {@code values} array is not copied.
 *
 * @param id the caller's id, unique within the collection (1 to 256 characters)
 * @param values the vector, exactly the collection's dimension
 * @param attributes metadata stored with the vector; empty for none
 */
public record VectorRecord(String id, float[] values, Map<String, Object> attributes) {

  public VectorRecord {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(values, "values");
    attributes = attributes == null ? Map.of() : attributes;
  }

  /** A vector without attributes. */
  public static VectorRecord of(String id, float[] values) {
    return new VectorRecord(id, values, Map.of());
  }

  Vector toProto() {
    Vector.Builder b = Vector.newBuilder().setId(id);
    for (float x : values) {
      b.addValues(x);
    }
    for (Map.Entry<String, Object> e : attributes.entrySet()) {
      b.putAttributes(e.getKey(), attribute(e.getKey(), e.getValue()));
    }
    return b.build();
  }

  static VectorRecord fromProto(Vector v) {
    float[] values = new float[v.getValuesCount()];
    for (int i = 0; i < values.length; i++) {
      values[i] = v.getValues(i);
    }
    return new VectorRecord(v.getId(), values, attributes(v.getAttributesMap()));
  }

  static AttributeValue attribute(String key, Object value) {
    AttributeValue.Builder b = AttributeValue.newBuilder();
    if (value instanceof String s) {
      b.setStringValue(s);
    } else if (value instanceof Long || value instanceof Integer || value instanceof Short) {
      b.setIntValue(((Number) value).longValue());
    } else if (value instanceof Double || value instanceof Float) {
      b.setFloatValue(((Number) value).doubleValue());
    } else if (value instanceof Boolean z) {
      b.setBoolValue(z);
    } else if (value instanceof List<?> list) {
      StringList.Builder sl = StringList.newBuilder();
      for (Object o : list) {
        if (!(o instanceof String s)) {
          throw new IllegalArgumentException("attribute '" + key + "': lists must hold strings, got "
              + (o == null ? "null" : o.getClass().getSimpleName()));
        }
        sl.addValues(s);
      }
      b.setStringListValue(sl);
    } else {
      throw new IllegalArgumentException("attribute '" + key + "': unsupported type "
          + (value == null ? "null" : value.getClass().getSimpleName())
          + "; expected String, Long, Double, Boolean or List<String>");
    }
    return b.build();
  }

  static Map<String, Object> attributes(Map<String, AttributeValue> proto) {
    if (proto.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, AttributeValue> e : proto.entrySet()) {
      AttributeValue v = e.getValue();
      Object o = switch (v.getKindCase()) {
        case STRING_VALUE -> v.getStringValue();
        case INT_VALUE -> v.getIntValue();
        case FLOAT_VALUE -> v.getFloatValue();
        case BOOL_VALUE -> v.getBoolValue();
        case STRING_LIST_VALUE -> List.copyOf(new ArrayList<>(v.getStringListValue().getValuesList()));
        case KIND_NOT_SET -> null;
      };
      if (o != null) {
        out.put(e.getKey(), o);
      }
    }
    return out;
  }
}
