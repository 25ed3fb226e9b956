/**
 * The server's view of its collections: {@link dev.codebook.server.collection.CollectionRegistry}
 * holds the collections of one data directory (one directory each under {@code
 * <dataDir>/collections/}, reopened at start-up; one that fails to open is held aside as FAILED
 * while the others serve, and the data directory is locked against a second process), and {@link
 * dev.codebook.server.collection.Collection} maps one collection between the API and the index's
 * collection engine ({@code dev.codebook.index.collection.CollectionEngine}): schema, states
 * (UNTRAINED, BUILDING, READY), attributes as {@code codebook.v1} maps, and the exceptions the
 * gRPC layer's {@code StatusMapper} turns into status codes. {@link
 * dev.codebook.server.collection.BackupLocations} confines backups to the configured backup root.
 *
 * <p>The files themselves are the engine's and the store's ({@code dev.codebook.index.store});
 * nothing here writes a byte to disk but through them.
 *
 * <p>Threading: the registry and each collection are safe for concurrent calls; the engine
 * underneath lets searches run on snapshots while writes and maintenance go on.
 */
package dev.codebook.server.collection;
