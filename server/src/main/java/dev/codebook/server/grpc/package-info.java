/**
 * The gRPC transport of {@code codebook.v1}: one service class per API service ({@code
 * CollectionGrpcService}, {@code VectorGrpcService}, {@code SearchGrpcService}, {@code
 * OperationGrpcService}, {@code SystemGrpcService}), the interceptors (API key, draining, call
 * log and metrics), and the API layer's two single points:
 *
 * <ul>
 *   <li><b>Validation</b>: {@code Requests} (names, ranges, ids, vector values), {@code Filters}
 *       (attribute filters) and {@code UnparsedRequests} (requests protobuf could not parse)
 *       check wire shape once, before anything reaches a collection, and name the field in
 *       every failure ({@code queries[3].vector}, {@code batches[7].vectors[2].values}) as an
 *       {@code InvalidFieldException}.
 *   <li><b>Errors</b>: {@link dev.codebook.server.grpc.StatusMapper} turns every exception,
 *       typed or not, into a status with {@code google.rpc} details (AIP-193); services call
 *       it and {@code return} right after {@code onError}.
 * </ul>
 *
 * <p>Services translate: they hold no scheduling (searches go to {@code
 * server.search.SearchScheduler}) and no storage ({@code server.collection}).
 *
 * <p>Threading: handlers other than search run on the server's call executor; a search is
 * checked on the transport thread that received it and searched on the search executor.
 */
package dev.codebook.server.grpc;
