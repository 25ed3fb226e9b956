package dev.codebook.server.collection;

import java.util.Objects;

/**
 * A request field with a bad value: the API answers INVALID_ARGUMENT with a {@code
 * google.rpc.BadRequest} field violation naming {@link #field()} (for example {@code
 * queries[3].vector}) and an {@code ErrorInfo} carrying {@link #reason()} (for example {@code
 * DIMENSION_MISMATCH}).
 */
public final class InvalidFieldException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  /** Machine-readable reasons, the {@code ErrorInfo.reason} values clients may switch on. */
  public static final String DIMENSION_MISMATCH = "DIMENSION_MISMATCH";
  public static final String NON_FINITE_VALUE = "NON_FINITE_VALUE";
  public static final String EMPTY_VECTOR = "EMPTY_VECTOR";
  public static final String ZERO_VECTOR = "ZERO_VECTOR";
  public static final String OUT_OF_RANGE = "OUT_OF_RANGE";
  public static final String MISSING_FIELD = "MISSING_FIELD";
  public static final String INVALID_NAME = "INVALID_NAME";
  public static final String INVALID_INDEX_SPEC = "INVALID_INDEX_SPEC";
  public static final String INVALID_VALUE = "INVALID_VALUE";
  public static final String INVALID_FILTER = "INVALID_FILTER";

  private final String field;
  private final String reason;

  /**
   * @param field the request field path, e.g. {@code queries[3].vector}
   * @param reason one of the constants above
   * @param message what is wrong and what is expected, for a person
   */
  public InvalidFieldException(String field, String reason, String message) {
    super(message);
    this.field = Objects.requireNonNull(field, "field");
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public String field() {
    return field;
  }

  public String reason() {
    return reason;
  }
}
