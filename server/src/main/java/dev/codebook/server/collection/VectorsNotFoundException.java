package dev.codebook.server.collection;

import java.util.List;

/** Some requested vector ids do not exist: NOT_FOUND, naming the first few. */
public final class VectorsNotFoundException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Ids quoted in the message at most. */
  static final int MAX_QUOTED = 5;

  private final String collection;
  private final List<String> missing;

  public VectorsNotFoundException(String collection, List<String> missing) {
    super(message(collection, missing));
    this.collection = collection;
    this.missing = List.copyOf(missing);
  }

  private static String message(String collection, List<String> missing) {
    StringBuilder sb = new StringBuilder();
    sb.append(missing.size()).append(missing.size() == 1 ? " id" : " ids")
        .append(" not found in ").append(collection).append(": ");
    for (int i = 0; i < Math.min(MAX_QUOTED, missing.size()); i++) {
      sb.append(i > 0 ? ", " : "").append('\'').append(missing.get(i)).append('\'');
    }
    if (missing.size() > MAX_QUOTED) {
      sb.append(", ...");
    }
    return sb.toString();
  }

  public String collection() {
    return collection;
  }

  public List<String> missing() {
    return missing;
  }
}
