package dev.codebook.index.collection;

import dev.codebook.index.filter.AttributeIndex;
import dev.codebook.index.filter.AttributeValue;
import dev.codebook.index.flat.FlatIndex;
import dev.codebook.index.store.SegmentWriter;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import org.roaringbitmap.RoaringBitmap;

/**
 * Recent rows not yet in a segment (Lucene's in-memory buffer of {@code DocumentsWriter}):
 * values as upserted (for get and flush), an exact index over them and their deletions. The
 * buffer's number is the segment number it will be flushed as, and its local ordinals stay the
 * segment's. Mutated under the collection's write lock, searched under its read lock.
 */
final class WriteBuffer {
  final long number;
  /** The log generation holding this buffer's first record. */
  final long walGen;
  final int dim;
  final ArrayList<String> ids = new ArrayList<>();
  final ArrayList<byte[]> attrs = new ArrayList<>();
  private float[] values = new float[0];
  int rows;
  final FlatIndex flat;
  final RoaringBitmap deletes = new RoaringBitmap();
  private final Function<byte[], Map<String, AttributeValue>> decoder;
  private AttributeIndex attributeIndex; // built on the first filtered search, then kept up

  WriteBuffer(long number, long walGen, int dim, Similarity similarity,
      Function<byte[], Map<String, AttributeValue>> decoder) {
    this.decoder = decoder;
    this.number = number;
    this.walGen = walGen;
    this.dim = dim;
    this.flat = new FlatIndex(dim, similarity);
  }

  /**
   * Appends {@code newIds.size()} rows. {@code v} is read here and not kept: the buffer holds
   * its own copy (the one copy of the upserted values this engine makes).
   */
  void append(List<String> newIds, float[] v, List<byte[]> a) {
    int n = newIds.size();
    long need = (long) (rows + n) * dim;
    ensureRoom(need);
    flat.add(new FloatMatrix(n, dim, v));
    System.arraycopy(v, 0, values, rows * dim, n * dim);
    ids.addAll(newIds);
    attrs.addAll(a);
    if (attributeIndex != null) {
      for (int i = 0; i < n; i++) {
        attributeIndex.add(rows + i, decoder.apply(a.get(i)));
      }
    }
    rows += n;
  }

  /** Rows not deleted. */
  int liveRows() {
    return rows - deletes.getCardinality();
  }

  /** Caller holds the collection's read lock (first use races only with other readers). */
  synchronized AttributeIndex attributeIndex() {
    if (attributeIndex == null) {
      AttributeIndex idx = new AttributeIndex();
      for (int r = 0; r < rows; r++) {
        idx.add(r, decoder.apply(attrs.get(r)));
      }
      attributeIndex = idx;
    }
    return attributeIndex;
  }

  /** The vectors of {@code ords}, in that order, as upserted. */
  FloatMatrix rows(int[] ords) {
    float[] out = new float[Math.multiplyExact(ords.length, dim)];
    for (int i = 0; i < ords.length; i++) {
      System.arraycopy(values, ords[i] * dim, out, i * dim, dim);
    }
    return new FloatMatrix(ords.length, dim, out);
  }

  /** Grows the value array for {@code need} floats; fails before anything changed. */
  void ensureRoom(long need) {
    if (need > values.length) {
      long grown = Math.max(need, Math.min(Integer.MAX_VALUE - 8L, values.length * 3L / 2));
      if (need > Integer.MAX_VALUE - 8L) {
        // Flushes have fallen far behind (e.g. during a long build): push back on writers.
        throw new RejectedExecutionException("write buffer full ("
            + rows + " vectors not yet flushed); retry after the running flush or build");
      }
      values = Arrays.copyOf(values, (int) grown);
    }
  }

  CollectionEngine.Row row(int ord, boolean withValues, boolean withAttrs) {
    return new CollectionEngine.Row(ids.get(ord),
        withValues ? Arrays.copyOfRange(values, ord * dim, (ord + 1) * dim) : null,
        withAttrs ? attrs.get(ord) : null);
  }

  /** The rows to write as a segment, with the same ordinals. */
  SegmentWriter.RowSource source() {
    return new SegmentWriter.RowSource() {
      @Override
      public int size() {
        return rows;
      }

      @Override
      public String id(int row) {
        return ids.get(row);
      }

      @Override
      public byte[] attributes(int row) {
        return attrs.get(row);
      }

      @Override
      public void vector(int row, float[] dst, int offset) {
        System.arraycopy(values, row * dim, dst, offset, dim);
      }
    };
  }
}
