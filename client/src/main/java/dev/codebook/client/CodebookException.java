package dev.codebook.client;

import io.grpc.Status;

/**
 * A call the server (or the transport) refused: the gRPC status code and the server's message,
 * after any retries. The message reads {@code "NOT_FOUND: collection 'x' does not exist"}, so
 * it can be shown to a person as is.
 */
public final class CodebookException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final Status.Code code;
  private final String description;
  private final int attempts;

  CodebookException(Status.Code code, String description, int attempts, Throwable cause) {
    super(code + ": " + (description != null ? description : "(no message)")
        + (attempts > 1 ? " (after " + attempts + " attempts)" : ""), cause);
    this.code = code;
    this.description = description;
    this.attempts = attempts;
  }

  /** Wraps a gRPC failure {@code t} with status {@code s}, of a call tried {@code attempts} times. */
  static CodebookException of(Status s, int attempts, Throwable t) {
    String description = s.getDescription();
    Throwable cause = s.getCause();
    if (cause != null && cause.getMessage() != null
        && (description == null || !description.contains(cause.getMessage()))) {
      // Transport failures say only "io exception"; the cause says which ("Connection refused").
      description = description == null ? cause.getMessage() : description + ": " + cause.getMessage();
    }
    return new CodebookException(s.getCode(), description, attempts, t);
  }

  /** The gRPC status code, e.g. {@code NOT_FOUND} or {@code UNAVAILABLE}. */
  public Status.Code code() {
    return code;
  }

  /** The server's message, without the code; null if it sent none. */
  public String description() {
    return description;
  }

  /** How many times the call was tried (1 when it was not retried). */
  public int attempts() {
    return attempts;
  }
}
