/**
 * Search scheduling: who computes a checked search, and with whom; never what it answers.
 *
 * <p>{@link dev.codebook.server.search.SearchScheduler} takes {@link
 * dev.codebook.server.search.SearchTask}s from the transport and runs them on the server's
 * bounded search executor: it merges compatible one-query tasks queued behind each other into
 * one batched search, and splits a many-query task into chunks that idle search threads help
 * with ({@code SharedBatch}). Each task's {@link dev.codebook.server.search.SearchListener}
 * hears its own rows of the answer, or its failure. A full queue is a {@link
 * dev.codebook.server.search.SearchRejectedException}.
 *
 * <p>Nothing here knows gRPC: the transport ({@code server.grpc.SearchGrpcService}) checks the
 * request, builds the task, and turns hits and exceptions into a response or a status.
 *
 * <p>Threading: {@code submit} runs on transport threads; searching, merging and answering on
 * the executor's threads. Listeners are called once each, from a search thread; a merged
 * search calls each task's listener in queue order.
 */
package dev.codebook.server.search;
