/**
 * Filtered search over vector attributes. A {@link dev.codebook.index.filter.Filter} (parsed
 * from text by {@link dev.codebook.index.filter.FilterParser}, or built from the API's structured
 * form) is evaluated by an {@link dev.codebook.index.filter.AttributeIndex} into a RoaringBitmap
 * of the ordinals it accepts, without a pass over every vector: string and boolean postings,
 * numeric columns, and sorted postings for low-cardinality integers.
 *
 * <p>{@link dev.codebook.index.filter.FilterPlan} then chooses, from how many vectors pass, how
 * the search runs: through the index with the bitmap as accept-ordinals and a probe widened in
 * proportion to the filter's selectivity, or by scoring the accepted rows exactly from the full
 * vectors when that scans less. {@link dev.codebook.index.filter.FilteredSearch} carries one
 * such call out, searching again wider the queries that came back short. How the plan's
 * constants were chosen: {@code docs/bench/2026-12-07/search-constants.md}.
 *
 * <p>Threading: an attribute index is not thread-safe for writes; its owner locks writers out
 * while it is evaluated (concurrent evaluations are fine). A {@code FilteredSearch} belongs to
 * one call on one thread.
 */
package dev.codebook.index.filter;
