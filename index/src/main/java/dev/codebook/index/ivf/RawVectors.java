package dev.codebook.index.ivf;

/**
 * Full-precision vectors kept beside the codes for exact re-ranking ({@code RFlat}). The scan
 * never touches them: only the {@code k * rerank} candidates of a query are read, so they can
 * live off-heap in a memory-mapped file.
 */
public interface RawVectors extends AutoCloseable {

  int dimension();

  int size();

  /** Appends {@code n} vectors stored row-major in {@code data}, ids continuing from size(). */
  void add(float[] data, int n);

  /** Dot product (innerProduct) or negated squared L2 distance of the query and vector {@code id}. */
  float score(float[] q, int qOffset, int id, boolean innerProduct);

  @Override
  void close();
}
