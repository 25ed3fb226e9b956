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
 * @param filter only vectors whose attributes match (see {@link Filters}); null for all
 */
public record SearchOptions(int topK, Integer nprobe, Integer rerank, boolean includeAttributes,
    SearchFilter filter) {

  /** Ten neighbours, default search parameters. */
  public static final SearchOptions DEFAULTS = new SearchOptions(10, null, null, false, null);

  public SearchOptions {
    if (topK <= 0) {
      throw new IllegalArgumentException("topK must be positive, got " + topK);
    }
  }

  /** Without a filter. */
  public SearchOptions(int topK, Integer nprobe, Integer rerank, boolean includeAttributes) {
    this(topK, nprobe, rerank, includeAttributes, null);
  }

  /** {@code k} neighbours, default search parameters. */
  public static SearchOptions topK(int k) {
    return new SearchOptions(k, null, null, false, null);
  }

  public SearchOptions withNprobe(Integer nprobe) {
    return new SearchOptions(topK, nprobe, rerank, includeAttributes, filter);
  }

  public SearchOptions withRerank(Integer rerank) {
    return new SearchOptions(topK, nprobe, rerank, includeAttributes, filter);
  }

  public SearchOptions withAttributes(boolean includeAttributes) {
    return new SearchOptions(topK, nprobe, rerank, includeAttributes, filter);
  }

  /** Only vectors matching {@code filter} (null: all). */
  public SearchOptions withFilter(SearchFilter filter) {
    return new SearchOptions(topK, nprobe, rerank, includeAttributes, filter);
  }
}
