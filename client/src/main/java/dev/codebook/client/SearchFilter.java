package dev.codebook.client;

import dev.codebook.api.v1.Filter;
import java.util.List;
import java.util.Objects;

/**
 * An attribute filter for a search: build one with {@link Filters} and combine with {@link
 * #and}, {@link #or} and {@link #not}. Immutable.
 *
 * <pre>{@code
 * SearchFilter f = Filters.eq("lang", "en").and(Filters.atLeast("year", 2020));
 * client.search("docs", query, SearchOptions.topK(10).withFilter(f));
 * }</pre>
 */
public final class SearchFilter {

  private final Filter proto;

  SearchFilter(Filter proto) {
    this.proto = Objects.requireNonNull(proto, "proto");
  }

  /** Both this and every one of {@code others} match. */
  public SearchFilter and(SearchFilter... others) {
    return new SearchFilter(Filter.newBuilder().setAll(list(others)).build());
  }

  /** This or any of {@code others} matches. */
  public SearchFilter or(SearchFilter... others) {
    return new SearchFilter(Filter.newBuilder().setAny(list(others)).build());
  }

  /** This does not match (vectors without the attribute included). */
  public SearchFilter not() {
    return new SearchFilter(Filter.newBuilder().setNegate(proto).build());
  }

  /** The {@code codebook.v1.Filter} sent to the server. */
  public Filter toProto() {
    return proto;
  }

  private Filter.FilterList list(SearchFilter[] others) {
    Filter.FilterList.Builder b = Filter.FilterList.newBuilder().addFilters(proto);
    for (SearchFilter o : List.of(others)) {
      b.addFilters(o.proto);
    }
    return b.build();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SearchFilter f && f.proto.equals(proto);
  }

  @Override
  public int hashCode() {
    return proto.hashCode();
  }

  @Override
  public String toString() {
    return proto.toString();
  }
}
