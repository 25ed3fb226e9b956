package dev.codebook.client;

/**
 * What an upsert (all its batches) did.
 *
 * @param upserted vectors written, inserted plus replaced
 * @param replaced of those, how many replaced an existing id
 * @param vectorCount live vectors in the collection after the last batch
 * @param batches requests sent
 */
public record UpsertResult(long upserted, long replaced, long vectorCount, int batches) {}
