package dev.codebook.server.collection;

/** A collection cannot hold more vectors: RESOURCE_EXHAUSTED. */
public final class CapacityExceededException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public CapacityExceededException(String message) {
    super(message);
  }
}
