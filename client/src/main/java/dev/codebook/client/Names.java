package dev.codebook.client;

import java.util.Objects;

/** Resource names: what callers may pass (an id or a full name) to what the API expects. */
final class Names {

  static final String COLLECTION_PREFIX = "collections/";
  static final String OPERATION_PREFIX = "operations/";

  private Names() {}

  /** "docs" or "collections/docs" to "collections/docs". */
  static String collection(String collection) {
    Objects.requireNonNull(collection, "collection");
    return collection.startsWith(COLLECTION_PREFIX) ? collection : COLLECTION_PREFIX + collection;
  }

  /** "docs" or "collections/docs" to "docs". */
  static String collectionId(String collection) {
    Objects.requireNonNull(collection, "collection");
    return collection.startsWith(COLLECTION_PREFIX)
        ? collection.substring(COLLECTION_PREFIX.length()) : collection;
  }

  /** "build-index-1" or "operations/build-index-1" to "operations/build-index-1". */
  static String operation(String operation) {
    Objects.requireNonNull(operation, "operation");
    return operation.startsWith(OPERATION_PREFIX) ? operation : OPERATION_PREFIX + operation;
  }
}
