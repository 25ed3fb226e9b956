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

  /** Copies vector {@code id} into {@code dst[dstOffset..dstOffset+dimension())}. */
  void get(int id, float[] dst, int dstOffset);

  @Override
  void close();
}
