/**
 * The Java client of a Codebook server ({@code codebook.v1} over gRPC).
 *
 * <p>{@link dev.codebook.client.CodebookClient} is the whole public surface, with its value
 * types: {@link dev.codebook.client.VectorRecord} (a vector to write or read back), {@link
 * dev.codebook.client.SearchOptions} and {@link dev.codebook.client.SearchFilter} (built with
 * {@link dev.codebook.client.Filters}), {@link dev.codebook.client.SearchHit} (one neighbour),
 * {@link dev.codebook.client.UpsertResult} and {@link dev.codebook.client.CodebookException}
 * (every failure: a status code and the server's message).
 *
 * <p>Behind it, one package-private class per job: {@code Connection} (the channel: plaintext
 * or TLS, the API key as a bearer header, the retry timer), {@code RetryPolicy} (which calls
 * are retried and the exponential backoff with jitter), {@code UnaryCalls} (an attempt, its
 * deadline, its retries, a caller's cancel), and one class per service: {@code
 * CollectionCalls}, {@code VectorCalls} and {@code IngestStream} (the flow-controlled
 * {@code StreamVectors} upsert), {@code SearchCalls}, {@code OperationCalls}. {@code Names}
 * turns ids into resource names.
 *
 * <p>Threading: a client is thread-safe and meant to be shared; its futures complete on gRPC's
 * callback executor (or the transport's thread with {@code directExecutor}). Retries wait on one
 * daemon timer thread per client.
 */
package dev.codebook.client;
