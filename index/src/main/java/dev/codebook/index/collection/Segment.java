package dev.codebook.index.collection;

import dev.codebook.index.VectorIndex;
import dev.codebook.index.filter.AttributeIndex;
import dev.codebook.index.filter.AttributeValue;
import dev.codebook.index.flat.FlatIndex;
import dev.codebook.index.ivf.IvfPqCodebook;
import dev.codebook.index.store.Manifest;
import dev.codebook.index.store.SegmentReader;
import dev.codebook.index.store.SegmentVectors;
import dev.codebook.index.store.StoreFiles;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.apache.lucene.store.Directory;
import org.roaringbitmap.RoaringBitmap;

/**
 * An open, immutable segment (its files are read by {@link SegmentReader}): ids and attributes
 * on the heap, full vectors memory-mapped, and the index that searches it: IVF-PQ over its codes
 * when it was encoded with a codebook, else an exact {@link FlatIndex}. Deletions are a {@link
 * RoaringBitmap} of local ordinals, replaced (copy-on-write) under the collection's write lock
 * so a search keeps the bitmap it started with.
 *
 * <p>Reference counted: the collection holds one reference while the segment is live, and each
 * search snapshot one more; the files of a segment dropped by a merge are deleted when the last
 * reference goes.
 */
final class Segment {

  final long number;
  final byte[] id;
  final int size;
  final int dim;
  final int codebookVersion;
  final String[] ids;
  final byte[][] attributes;
  private final SegmentVectors vectors;
  private volatile VectorIndex index;
  private final Similarity similarity;
  private final Directory dir;
  private final List<String> files;
  private final AtomicInteger refs = new AtomicInteger(1);
  private volatile boolean obsolete;
  private volatile AttributeIndex attributeIndex;

  /** Committed deletion generation (0: none). Guarded by the collection's write lock. */
  long delGen;
  /** Cardinality of the committed deletion generation. */
  int committedDelCount;
  /** Deletions not yet in a committed generation file. */
  boolean dirty;
  /** Deleted local ordinals; replaced, never mutated, once published. */
  volatile RoaringBitmap deletes;

  private Segment(Manifest.SegmentInfo info, int dim, SegmentReader.Data data,
      Similarity similarity, Directory dir) {
    this.number = info.number();
    this.id = info.id();
    this.size = info.size();
    this.dim = dim;
    this.codebookVersion = info.codebookVersion();
    this.ids = data.ids();
    this.attributes = data.attributes();
    this.vectors = data.vectors();
    this.index = data.codes();
    this.similarity = similarity;
    this.dir = dir;
    this.files = data.files();
    this.deletes = data.deletes();
    this.delGen = info.delGen();
    this.committedDelCount = info.delCount();
  }

  /**
   * Opens segment {@code info}, verifying the checksum of every file.
   *
   * @param codebooks the codebook of a version (for encoded segments)
   * @throws org.apache.lucene.index.CorruptIndexException naming the file for a bad, missing or
   *     mismatched file
   */
  static Segment open(Directory dir, Path path, Manifest.SegmentInfo info, int dim,
      Similarity similarity, IntFunction<IvfPqCodebook> codebooks) throws IOException {
    return new Segment(info, dim, SegmentReader.read(dir, path, info, dim, codebooks),
        similarity, dir);
  }

  /**
   * The index that searches this segment: IVF-PQ over its codes, or for a segment without codes
   * an exact index loaded on first use (a segment only written to be merged or re-encoded, as in
   * a bulk build, never costs the heap copy).
   */
  VectorIndex index() {
    VectorIndex i = index;
    if (i == null) {
      synchronized (this) {
        i = index;
        if (i == null) {
          i = loadFlat();
          index = i;
        }
      }
    }
    return i;
  }

  private FlatIndex loadFlat() {
    FlatIndex flat = new FlatIndex(dim, similarity);
    int step = 4096;
    for (int from = 0; from < size; from += step) {
      int n = Math.min(step, size - from);
      float[] x = new float[n * dim];
      for (int i = 0; i < n; i++) {
        vector(from + i, x, i * dim);
      }
      flat.add(new FloatMatrix(n, dim, x));
    }
    return flat;
  }

  /** Copies row {@code row}'s vector as upserted into {@code dst}. */
  void vector(int row, float[] dst, int offset) {
    vectors.vector(row, dst, offset);
  }

  float[] vector(int row) {
    return vectors.vector(row);
  }

  /** The vectors of {@code rows}, in that order, as upserted. */
  FloatMatrix rows(int[] rows) {
    return vectors.rows(rows);
  }

  /** The attribute index over local ordinals, built on first use (filtered searches). */
  AttributeIndex attributeIndex(Function<byte[], Map<String, AttributeValue>> decoder) {
    AttributeIndex idx = attributeIndex;
    if (idx == null) {
      synchronized (this) {
        idx = attributeIndex;
        if (idx == null) {
          idx = new AttributeIndex();
          for (int r = 0; r < size; r++) {
            idx.add(r, decoder.apply(attributes[r]));
          }
          attributeIndex = idx;
        }
      }
    }
    return idx;
  }

  int liveCount() {
    return size - deletes.getCardinality();
  }

  List<String> files() {
    return new ArrayList<>(files);
  }

  /** The name of the current deletion generation file, or null. */
  String deletesFile() {
    return delGen > 0 ? StoreFiles.deletes(number, delGen) : null;
  }

  Manifest.SegmentInfo info() {
    return new Manifest.SegmentInfo(number, id, size, codebookVersion, delGen,
        delGen > 0 ? committedDelCount : 0);
  }

  boolean tryIncRef() {
    while (true) {
      int r = refs.get();
      if (r <= 0) {
        return false;
      }
      if (refs.compareAndSet(r, r + 1)) {
        return true;
      }
    }
  }

  void incRef() {
    if (!tryIncRef()) {
      throw new IllegalStateException("segment " + number + " is already closed");
    }
  }

  /** Drops a reference; the last one of an obsolete segment deletes its files. */
  void decRef() {
    if (refs.decrementAndGet() == 0 && obsolete) {
      for (String f : files) {
        StoreFiles.deleteQuietly(dir, f);
      }
      String del = deletesFile();
      if (del != null) {
        StoreFiles.deleteQuietly(dir, del);
      }
    }
  }

  /** Marks the segment for deletion once unreferenced (after a commit that no longer names it). */
  void markObsolete() {
    obsolete = true;
  }
}
