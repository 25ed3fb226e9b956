package dev.codebook.index.vector;

import java.util.Locale;

/**
 * How two vectors are compared. Every index ranks by a score where higher is better: the dot
 * product, the cosine (a dot product of vectors normalized once, at insert and at query time), or
 * the negated squared Euclidean distance.
 */
public enum Similarity {
  DOT_PRODUCT("dot"),
  COSINE("cosine"),
  EUCLIDEAN("l2");

  private final String shortName;

  Similarity(String shortName) {
    this.shortName = shortName;
  }

  public String shortName() {
    return shortName;
  }

  /** Whether vectors are scaled to unit length before they are stored or searched. */
  public boolean normalizes() {
    return this == COSINE;
  }

  /**
   * Parses a metric name: {@code dot|ip|inner_product}, {@code cosine|angular} (ann-benchmarks'
   * name) or {@code l2|euclidean}.
   */
  public static Similarity parse(String name) {
    switch (name.trim().toLowerCase(Locale.ROOT)) {
      case "dot", "ip", "inner_product", "dot_product":
        return DOT_PRODUCT;
      case "cosine", "angular":
        return COSINE;
      case "l2", "euclidean":
        return EUCLIDEAN;
      default:
        throw new IllegalArgumentException(
            "unknown metric '" + name + "': expected dot, cosine (angular) or l2 (euclidean)");
    }
  }
}
