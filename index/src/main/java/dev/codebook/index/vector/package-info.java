/**
 * Vectors as the rest of Codebook sees them: {@link dev.codebook.index.vector.FloatMatrix} (rows of
 * float32 in one array, the layout every kernel scans), {@link
 * dev.codebook.index.vector.IntMatrix}, the {@link dev.codebook.index.vector.Similarity} an index
 * ranks by (higher score is better: dot product, cosine on vectors normalized once, negated
 * squared L2), and the checks on a single vector ({@link dev.codebook.index.vector.VectorUtil}:
 * dimension, NaN and infinity, zero vectors under cosine, magnitudes whose scores would overflow).
 *
 * <h2>Files read here</h2>
 *
 * <p>Datasets come in the formats people already have, chosen by extension ({@link
 * dev.codebook.index.vector.VectorFiles}): the ann-benchmarks HDF5 layout ({@code train}, {@code
 * test}, {@code neighbors}, {@code distances}, root attribute {@code distance}; {@link
 * dev.codebook.index.vector.AnnBenchmarksHdf5}), TEXMEX {@code .fvecs}/{@code .bvecs}/{@code
 * .ivecs} ({@link dev.codebook.index.vector.TexmexFiles}) and NumPy {@code .npy} ({@link
 * dev.codebook.index.vector.NpyFiles}). Each reader's javadoc is the byte layout it accepts; every
 * reader checks lengths before it trusts a header and reports a bad file as a {@link
 * dev.codebook.index.vector.MalformedVectorFileException} whose message starts with the file.
 * These are tool inputs (bench, build, ingest, tests); the server's own files are in {@code
 * dev.codebook.index.store}.
 *
 * <p>Threading: the matrices are plain values with mutable arrays; whoever fills one hands it on
 * and does not change it afterwards. The readers are stateless.
 */
package dev.codebook.index.vector;
