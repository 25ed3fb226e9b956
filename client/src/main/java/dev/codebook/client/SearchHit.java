package dev.codebook.client;

import java.util.Map;

/**
 * One neighbour of a query.
 *
 * @param id the vector's id
 * @param score similarity to the query, higher is better (dot product, cosine, or negated
 *     squared distance)
 * @param attributes the vector's attributes when {@link SearchOptions#includeAttributes} was
 *     set; empty otherwise
 */
public record SearchHit(String id, float score, Map<String, Object> attributes) {}
