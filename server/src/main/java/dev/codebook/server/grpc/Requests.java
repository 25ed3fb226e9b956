package dev.codebook.server.grpc;

import static dev.codebook.server.collection.InvalidFieldException.DIMENSION_MISMATCH;
import static dev.codebook.server.collection.InvalidFieldException.EMPTY_VECTOR;
import static dev.codebook.server.collection.InvalidFieldException.INVALID_NAME;
import static dev.codebook.server.collection.InvalidFieldException.INVALID_VALUE;
import static dev.codebook.server.collection.InvalidFieldException.MISSING_FIELD;
import static dev.codebook.server.collection.InvalidFieldException.NON_FINITE_VALUE;
import static dev.codebook.server.collection.InvalidFieldException.OUT_OF_RANGE;
import static dev.codebook.server.collection.InvalidFieldException.ZERO_VECTOR;

import dev.codebook.api.v1.AttributeValue;
import dev.codebook.api.v1.Query;
import dev.codebook.api.v1.Vector;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import dev.codebook.index.vector.VectorUtil;
import dev.codebook.server.collection.Collection;
import dev.codebook.server.collection.CollectionRegistry;
import dev.codebook.server.collection.InvalidFieldException;
import java.util.List;
import java.util.Map;

/**
 * The API layer's checks of wire shape, shared by the services: names, ranges, ids, and query
 * and vector values (dimension, finite, a direction for cosine, a bounded norm), each checked
 * once here and copied into the matrices the collections take. Every failure is an {@link
 * InvalidFieldException} naming the request field ({@code queries[3].vector}, {@code
 * batches[7].vectors[2].values}), so the client learns which value to fix; {@link StatusMapper}
 * turns it into INVALID_ARGUMENT with a {@code BadRequest.FieldViolation}. (Filters have their
 * own checks in {@link Filters}, with field paths under {@code filter}.)
 */
final class Requests {

  /** Longest vector id, in characters. */
  static final int MAX_ID_LENGTH = 256;

  private Requests() {}

  /** The id in a {@code collections/{id}} name held by {@code field}. */
  static String collectionId(String field, String name) {
    if (name.isEmpty()) {
      throw new InvalidFieldException(field, MISSING_FIELD,
          field + " is required: a collection name like 'collections/my-vectors'");
    }
    if (!name.startsWith(Collection.NAME_PREFIX)) {
      throw new InvalidFieldException(field, INVALID_NAME, field
          + ": expected a collection name like 'collections/my-vectors', got '" + clip(name) + "'");
    }
    String id = name.substring(Collection.NAME_PREFIX.length());
    if (!CollectionRegistry.ID.matcher(id).matches()) {
      throw new InvalidFieldException(field, INVALID_NAME,
          field + ": bad collection id '" + clip(id) + "'; " + CollectionRegistry.idRule());
    }
    return id;
  }

  /** The id of a collection to create, held by {@code field} (a bare id, not a name). */
  static String newCollectionId(String field, String id) {
    if (id.isEmpty()) {
      throw new InvalidFieldException(field, MISSING_FIELD,
          field + " is required; " + CollectionRegistry.idRule());
    }
    if (!CollectionRegistry.ID.matcher(id).matches()) {
      throw new InvalidFieldException(field, INVALID_NAME,
          "bad " + field + " '" + clip(id) + "'; " + CollectionRegistry.idRule());
    }
    return id;
  }

  /** An integer field that must lie in {@code [min, max]}. */
  static int inRange(String field, int value, int min, int max) {
    if (value < min || value > max) {
      throw new InvalidFieldException(field, OUT_OF_RANGE,
          field + " must be " + min + " to " + max + ", got " + value);
    }
    return value;
  }

  /** The queries of a search as one matrix, each checked. */
  static FloatMatrix queries(List<Query> queries, int dim, Similarity similarity) {
    int n = queries.size();
    float[] data = new float[Math.multiplyExact(n, dim)];
    for (int i = 0; i < n; i++) {
      Query q = queries.get(i);
      copyChecked("queries[" + i + "].vector", q.getVectorCount(), q::getVector, dim,
          similarity, data, i * dim);
    }
    return new FloatMatrix(n, dim, data);
  }

  /** The values of upserted vectors as one matrix, each checked, and their ids checked. */
  static FloatMatrix vectors(List<Vector> vectors, int dim, Similarity similarity) {
    return vectors(vectors, dim, similarity, "");
  }

  /** As {@link #vectors(List, int, Similarity)}, field names prefixed (a stream's batch). */
  static FloatMatrix vectors(List<Vector> vectors, int dim, Similarity similarity, String prefix) {
    int n = vectors.size();
    float[] data = new float[Math.multiplyExact(n, dim)];
    for (int i = 0; i < n; i++) {
      Vector v = vectors.get(i);
      checkId(prefix + "vectors[" + i + "].id", v.getId());
      copyChecked(prefix + "vectors[" + i + "].values", v.getValuesCount(), v::getValues, dim,
          similarity, data, i * dim);
      for (Map.Entry<String, AttributeValue> a : v.getAttributesMap().entrySet()) {
        String field = prefix + "vectors[" + i + "].attributes[" + a.getKey() + "]";
        if (a.getKey().isEmpty()) {
          throw new InvalidFieldException(prefix + "vectors[" + i + "].attributes", INVALID_VALUE,
              prefix + "vectors[" + i + "].attributes has an empty key");
        }
        if (a.getValue().getKindCase() == AttributeValue.KindCase.KIND_NOT_SET) {
          throw new InvalidFieldException(field, MISSING_FIELD,
              field + " has no value; set one of string_value, int_value, float_value,"
                  + " bool_value, string_list_value");
        }
      }
    }
    return new FloatMatrix(n, dim, data);
  }

  /** A vector id: 1 to {@value #MAX_ID_LENGTH} characters. */
  static void checkId(String field, String id) {
    if (id.isEmpty()) {
      throw new InvalidFieldException(field, MISSING_FIELD, field + " is empty; every vector needs an id");
    }
    if (id.length() > MAX_ID_LENGTH) {
      throw new InvalidFieldException(field, OUT_OF_RANGE, field + " is " + id.length()
          + " characters long; ids have at most " + MAX_ID_LENGTH);
    }
  }

  /** Reads one float of a repeated field without boxing. */
  @FunctionalInterface
  interface FloatAt {
    float get(int i);
  }

  private static void copyChecked(String field, int count, FloatAt values, int dim,
      Similarity similarity, float[] dst, int offset) {
    if (count == 0) {
      throw new InvalidFieldException(field, EMPTY_VECTOR,
          field + " is empty; expected " + dim + " values");
    }
    if (count != dim) {
      throw new InvalidFieldException(field, DIMENSION_MISMATCH,
          field + ": vector dimensions differ: " + count + "!=" + dim);
    }
    double norm2 = 0;
    for (int j = 0; j < dim; j++) {
      float x = values.get(j);
      if (!Float.isFinite(x)) {
        throw new InvalidFieldException(field, NON_FINITE_VALUE,
            field + " has a non-finite value " + x + " at dimension " + j);
      }
      dst[offset + j] = x;
      norm2 += (double) x * x;
    }
    if (similarity.normalizes() && !(norm2 > 0)) {
      throw new InvalidFieldException(field, ZERO_VECTOR,
          field + " is a zero vector, which has no direction for cosine similarity");
    }
    if (!similarity.normalizes() && norm2 > VectorUtil.MAX_SQUARED_NORM) {
      throw new InvalidFieldException(field, OUT_OF_RANGE, VectorUtil.tooLarge(field, norm2));
    }
  }

  /** At most 64 characters of user input, for messages. */
  static String clip(String s) {
    return s.length() <= 64 ? s : s.substring(0, 61) + "...";
  }
}
