package dev.codebook.client;

/**
 * How a search runs: neighbours per query and the index's search parameters (FAISS names).
 *
 * @param topK neighbours per query, 1 to 10000
 * @param nprobe inverted lists to probe; null for the server's default (1). Ignored by exact
 *     search and indexes without IVF
 * @param rerank re-rank factor (FAISS {@code k_factor}) for RFlat indexes; null for the
 *     default (1)
 * @param includeAttributes return each neighbour's attributes
 */
public record SearchOptions(int topK, Integer nprobe, Integer rerank, boolean includeAttributes) {

  /** Ten neighbours, default search parameters. */
  public static final SearchOptions DEFAULTS = new SearchOptions(10, null, null, false);

  public SearchOptions {
    if (topK <= 0) {
      throw new IllegalArgumentException("topK must be positive, got " + topK);
    }
  }

  /** {@code k} neighbours, default search parameters. */
  public static SearchOptions topK(int k) {
    return new SearchOptions(k, null, null, false);
  }

  public SearchOptions withNprobe(Integer nprobe) {
    return new SearchOptions(topK, nprobe, rerank, includeAttributes);
  }

  public SearchOptions withRerank(Integer rerank) {
    return new SearchOptions(topK, nprobe, rerank, includeAttributes);
  }

  public SearchOptions withAttributes(boolean includeAttributes) {
    return new SearchOptions(topK, nprobe, rerank, includeAttributes);
  }
}
