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

  /**
   * Touches every cache line of vectors {@code ids[0..n)} without using them, so that the reads
   * of a whole candidate list are in flight at once instead of one vector's at a time; a
   * following {@link #get} then finds them in cache. A hint: the default does nothing.
   */
  default void prefetch(int[] ids, int n) {}

  /**
   * Whether {@link #get} returns the vectors exactly as the caller gave them (neither normalized
   * nor OPQ-rotated) rather than as {@link #add} received them from the index. A store that
   * already keeps the original vectors (a segment's vector file) says true; the index then
   * rotates each query back once, instead of rotating every candidate (a rotation keeps dot
   * products and distances), and divides a cosine score by the candidate's norm instead of
   * normalizing a copy.
   */
  default boolean original() {
    return false;
  }

  @Override
  void close();
}
