/**
 * Trained quantizers as immutable values, after FAISS's {@code ProductQuantizer} and {@code
 * OPQMatrix}: {@link dev.codebook.index.quant.ProductQuantizer} (encode a vector to {@code m}
 * codes of {@code nbits}, decode, and build a query's ADC lookup table) and {@link
 * dev.codebook.index.quant.OpqRotation} (an orthogonal rotation applied before PQ; also FAISS's
 * random rotation). They are trained by the trainers in {@code dev.codebook.index.train} and
 * handed to indexes, which never train implicitly.
 *
 * <p>Layouts: PQ centroids are {@code [m][ksub][dsub]} as FAISS stores them, with a derived
 * transposed copy {@code [m][dsub][ksub]} for the kernels; a rotation is row-major {@code y = R x}
 * with {@code R} and {@code R^T} kept in the transposed-kernel layout. Their on-disk form is
 * written by {@code dev.codebook.index.ivf.IvfPqIndexFormat} and {@code
 * dev.codebook.index.store.CodebookFile}.
 *
 * <p>Threading: immutable after construction; safe to share between threads. Methods that need
 * scratch take it from the caller.
 */
package dev.codebook.index.quant;
