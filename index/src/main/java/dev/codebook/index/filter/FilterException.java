package dev.codebook.index.filter;

import java.util.Objects;

/**
 * A well-formed filter that does not fit the data it is evaluated against, such as a string
 * compared with an attribute that holds only integers. Carries the offending node so the caller
 * can name the request field it came from.
 */
public final class FilterException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final transient Filter node;

  public FilterException(Filter node, String message) {
    super(message);
    this.node = Objects.requireNonNull(node, "node");
  }

  /** The node that failed (identity: the instance given to {@link AttributeIndex#evaluate}). */
  public Filter node() {
    return node;
  }
}
