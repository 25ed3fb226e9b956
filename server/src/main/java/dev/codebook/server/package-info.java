/**
 * The Codebook gRPC server. {@link dev.codebook.server.CodebookServer} wires the {@code
 * codebook.v1} services onto Netty with its own boss and worker groups, a call executor, a
 * bounded search executor (a full queue answers RESOURCE_EXHAUSTED at once) and the health and
 * reflection services, and shuts down gracefully (health NOT_SERVING, drain with a grace period,
 * then cancel). {@link dev.codebook.server.ServerConfig} is everything it is configured with,
 * read from flags or a YAML file ({@link dev.codebook.server.ServerConfigFile}); {@link
 * dev.codebook.server.Warmup} searches every loaded collection, in process and over loopback,
 * before the server says it is ready.
 *
 * <p>Sub-packages: {@code collection} (the registry of a data directory's collections and the
 * mapping between the API and the index's collection engine), {@code grpc} (the services,
 * interceptors, request validation and the one {@code StatusMapper}), {@code job} (long-running
 * operations) and {@code metrics} (Prometheus).
 *
 * <p>Threading: no index work runs on a Netty event loop; searches run on the search executor,
 * builds on the job pool.
 */
package dev.codebook.server;
