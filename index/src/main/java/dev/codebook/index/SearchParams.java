package dev.codebook.index;

import java.util.Locale;

/**
 * Per-search knobs, FAISS names: {@code nprobe} lists to scan (IVF), and {@code rerank}, the
 * re-rank factor (FAISS's {@code k_factor}): with {@code RFlat}, the best {@code k * rerank}
 * candidates are re-scored exactly.
 */
public record SearchParams(int nprobe, int rerank) {

  public static final int DEFAULT_NPROBE = 1;
  public static final int DEFAULT_RERANK = 1;
  public static final SearchParams DEFAULTS = new SearchParams(DEFAULT_NPROBE, DEFAULT_RERANK);

  public SearchParams {
    if (nprobe <= 0) {
      throw new IllegalArgumentException("nprobe must be positive, got " + nprobe);
    }
    if (rerank <= 0) {
      throw new IllegalArgumentException("rerank must be positive, got " + rerank);
    }
  }

  /**
   * Parses {@code "nprobe=16,rerank=4"} ({@code k_factor} is accepted for {@code rerank}); an
   * empty string gives the defaults.
   */
  public static SearchParams parse(String text) {
    int nprobe = DEFAULT_NPROBE, rerank = DEFAULT_RERANK;
    if (text != null && !text.isBlank()) {
      for (String kv : text.split(",")) {
        String[] p = kv.split("=", 2);
        if (p.length != 2) {
          throw new IllegalArgumentException(
              "bad search parameter '" + kv + "': expected name=value, e.g. nprobe=16,rerank=4");
        }
        String key = p[0].trim().toLowerCase(Locale.ROOT);
        int value;
        try {
          value = Integer.parseInt(p[1].trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              "bad search parameter '" + kv + "': '" + p[1].trim() + "' is not an integer");
        }
        switch (key) {
          case "nprobe" -> nprobe = value;
          case "rerank", "k_factor" -> rerank = value;
          default -> throw new IllegalArgumentException(
              "unknown search parameter '" + p[0].trim() + "': expected nprobe or rerank");
        }
      }
    }
    return new SearchParams(nprobe, rerank);
  }

  @Override
  public String toString() {
    return "nprobe=" + nprobe + ",rerank=" + rerank;
  }
}
