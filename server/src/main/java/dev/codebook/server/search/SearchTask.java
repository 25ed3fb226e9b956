package dev.codebook.server.search;

import dev.codebook.index.SearchParams;
import dev.codebook.index.filter.Filter;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.server.collection.Collection;
import java.util.Objects;

/**
 * One checked search, as the {@link SearchScheduler} takes it: what to search and who hears the
 * answer. Built by the transport after it has checked the request.
 *
 * @param collection the collection to search
 * @param queries checked queries (dimension, finite values)
 * @param k neighbours per query
 * @param params nprobe and rerank
 * @param filter the attribute filter, or null for none; a filtered task is never merged
 * @param withValues return each hit's vector
 * @param withAttributes return each hit's attributes
 * @param listener hears the hits or the failure, exactly once
 */
public record SearchTask(Collection collection, FloatMatrix queries, int k, SearchParams params,
    Filter filter, boolean withValues, boolean withAttributes, SearchListener listener) {

  public SearchTask {
    Objects.requireNonNull(collection, "collection");
    Objects.requireNonNull(queries, "queries");
    Objects.requireNonNull(params, "params");
    Objects.requireNonNull(listener, "listener");
  }

  /** Whether {@code other} can be searched in one batch with this task, with {@code room} rows left. */
  boolean joins(SearchTask other, int room) {
    return filter == null && other.filter == null && queries.rows() <= room
        && collection == other.collection && k == other.k && params.equals(other.params)
        && withValues == other.withValues && withAttributes == other.withAttributes;
  }
}
