package dev.codebook.index.store;

import dev.codebook.index.VectorIndex;
import dev.codebook.index.flat.FlatIndex;
import dev.codebook.index.ivf.IvfPqCodebook;
import dev.codebook.index.ivf.IvfPqIndex;
import dev.codebook.index.ivf.IvfPqIndexFormat;
import dev.codebook.index.ivf.MappedRawVectors;
import dev.codebook.index.ivf.RawVectors;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import dev.codebook.index.vector.VectorUtil;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.IndexInput;
import org.roaringbitmap.RoaringBitmap;

/**
 * An open, immutable segment (see {@link SegmentWriter} for its files): ids and attributes on
 * the heap, full vectors memory-mapped, and the index that searches it: IVF-PQ over its codes
 * when it was encoded with a codebook, else an exact {@link FlatIndex}. Deletions are a {@link
 * RoaringBitmap} of local ordinals, replaced (copy-on-write) under the collection's write lock
 * so a search keeps the bitmap it started with.
 *
 * <p>Reference counted: the collection holds one reference while the segment is live, and each
 * search snapshot one more; the files of a segment dropped by a merge are deleted when the last
 * reference goes.
 */
final class Segment {

  /** Floats per mapping: 1 GiB, below the 2 GiB limit of a buffer. */
  static final long CHUNK_BYTES = 1L << 30;

  final long number;
  final byte[] id;
  final int size;
  final int dim;
  final int codebookVersion;
  final String[] ids;
  final byte[][] attributes;
  private final FloatBuffer[] chunks;
  private final int rowsPerChunk;
  private volatile VectorIndex index;
  private final Similarity similarity;
  private final Directory dir;
  private final List<String> files;
  private final AtomicInteger refs = new AtomicInteger(1);
  private volatile boolean obsolete;

  /** Committed deletion generation (0: none). Guarded by the collection's write lock. */
  long delGen;
  /** Deletions not yet in a committed generation file. */
  boolean dirty;
  /** Deleted local ordinals; replaced, never mutated, once published. */
  volatile RoaringBitmap deletes;

  private Segment(long number, byte[] id, int size, int dim, int codebookVersion, String[] ids,
      byte[][] attributes, FloatBuffer[] chunks, int rowsPerChunk, VectorIndex index,
      Similarity similarity, Directory dir, List<String> files, RoaringBitmap deletes,
      long delGen) {
    this.number = number;
    this.id = id;
    this.size = size;
    this.dim = dim;
    this.codebookVersion = codebookVersion;
    this.ids = ids;
    this.attributes = attributes;
    this.chunks = chunks;
    this.rowsPerChunk = rowsPerChunk;
    this.index = index;
    this.similarity = similarity;
    this.dir = dir;
    this.files = files;
    this.deletes = deletes;
    this.delGen = delGen;
  }

  /**
   * Opens segment {@code info}, verifying the checksum of every file.
   *
   * @param codebooks the codebook of a version (for encoded segments)
   * @throws CorruptIndexException naming the file for a bad, missing or mismatched file
   */
  static Segment open(Directory dir, Path path, Manifest.SegmentInfo info, int dim,
      Similarity similarity, IntFunction<IvfPqCodebook> codebooks) throws IOException {
    List<String> files = new ArrayList<>();
    String idsName = StoreFiles.segment(info.number(), "ids");
    String vecName = StoreFiles.segment(info.number(), "vec");
    files.add(idsName);
    files.add(vecName);
    try {
      String[] ids = new String[info.size()];
      byte[][] attrs = new byte[info.size()][];
      StoreFiles.Opened f = StoreFiles.open(dir, idsName, SegmentWriter.IDS_CODEC, 0,
          SegmentWriter.VERSION_CURRENT, info.id());
      try (IndexInput in = f.in()) {
        int n = in.readVInt();
        if (n != info.size()) {
          throw new CorruptIndexException(n + " rows, manifest says " + info.size(), in);
        }
        for (int r = 0; r < n; r++) {
          ids[r] = in.readString();
          int len = StoreFiles.checkCount(in, in.readVInt(), in.length() - in.getFilePointer(),
              "attributes length");
          attrs[r] = new byte[len];
          in.readBytes(attrs[r], 0, len);
        }
        StoreFiles.checkEnd(in);
      }
      long dataOffset = SegmentWriter.dataOffset();
      f = StoreFiles.open(dir, vecName, SegmentWriter.VEC_CODEC, 0,
          SegmentWriter.VERSION_CURRENT, info.id());
      try (IndexInput in = f.in()) {
        int d = in.readInt();
        int n = in.readInt();
        if (d != dim || n != info.size()) {
          throw new CorruptIndexException(n + " x " + d + " vectors, expected " + info.size()
              + " x " + dim, in);
        }
        long expected = Math.addExact(Math.addExact(dataOffset,
            Math.multiplyExact(Math.multiplyExact(4L, n), (long) d)),
            org.apache.lucene.codecs.CodecUtil.footerLength());
        if (in.length() != expected) {
          throw new CorruptIndexException("file is " + in.length() + " bytes, " + n + " x " + d
              + " vectors need " + expected, in);
        }
      }
      int rowsPerChunk = (int) Math.max(1, CHUNK_BYTES / (4L * dim));
      int nChunks = (int) ((info.size() + (long) rowsPerChunk - 1) / rowsPerChunk);
      FloatBuffer[] chunks = new FloatBuffer[nChunks];
      try (FileChannel ch = FileChannel.open(path.resolve(vecName), StandardOpenOption.READ)) {
        for (int c = 0; c < nChunks; c++) {
          long first = (long) c * rowsPerChunk;
          long rows = Math.min(rowsPerChunk, info.size() - first);
          chunks[c] = ch.map(FileChannel.MapMode.READ_ONLY, dataOffset + 4L * first * dim,
              4L * rows * dim).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        }
      }
      RoaringBitmap deletes = new RoaringBitmap();
      if (info.delGen() > 0) {
        String del = StoreFiles.deletes(info.number(), info.delGen());
        files.add(del);
        deletes = DeletesFile.read(dir, del, info.id(), info.size(), info.delCount());
      } else if (info.delCount() != 0) {
        throw new CorruptIndexException("segment " + info.number() + " has " + info.delCount()
            + " deletions but no deletion file", idsName);
      }
      Segment seg = new Segment(info.number(), info.id(), info.size(), dim,
          info.codebookVersion(), ids, attrs, chunks, rowsPerChunk, null, similarity, dir, files,
          deletes, info.delGen());
      VectorIndex index = null;
      if (info.codebookVersion() > 0) {
        String ivfName = StoreFiles.segment(info.number(), "ivf");
        files.add(ivfName);
        IvfPqCodebook cb = codebooks.apply(info.codebookVersion());
        f = StoreFiles.open(dir, ivfName, SegmentWriter.IVF_CODEC, 0,
            SegmentWriter.VERSION_CURRENT, info.id());
        try (IndexInput in = f.in()) {
          int v = in.readVInt();
          if (v != info.codebookVersion()) {
            throw new CorruptIndexException("codes of codebook " + v + ", manifest says "
                + info.codebookVersion(), in);
          }
          IvfPqIndex ivf = cb.newIndex(cb.spec().refineFlat() ? seg.new Raw() : null);
          IvfPqIndexFormat.readLists(in, ivf, info.size());
          StoreFiles.checkEnd(in);
          index = ivf;
        }
      }
      Segment out = seg.withIndex(index);
      out.committedDelCount = info.delCount();
      return out;
    } catch (NoSuchFileException e) {
      throw new CorruptIndexException("segment " + info.number() + " file is missing: "
          + e.getMessage(), path.resolve(e.getFile() == null ? "?" : e.getFile()).toString(), e);
    }
  }

  private Segment withIndex(VectorIndex index) {
    return new Segment(number, id, size, dim, codebookVersion, ids, attributes, chunks,
        rowsPerChunk, index, similarity, dir, files, deletes, delGen);
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
          i = loadFlat(similarity);
          index = i;
        }
      }
    }
    return i;
  }

  private FlatIndex loadFlat(Similarity similarity) {
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
    chunks[row / rowsPerChunk].get((row % rowsPerChunk) * dim, dst, offset, dim);
  }

  /** The vectors of {@code rows}, in that order, as upserted. */
  FloatMatrix rows(int[] rows) {
    float[] out = new float[Math.multiplyExact(rows.length, dim)];
    for (int i = 0; i < rows.length; i++) {
      vector(rows[i], out, i * dim);
    }
    return new FloatMatrix(rows.length, dim, out);
  }

  private volatile dev.codebook.index.filter.AttributeIndex attributeIndex;

  /** The attribute index over local ordinals, built on first use (filtered searches). */
  dev.codebook.index.filter.AttributeIndex attributeIndex(java.util.function.Function<byte[],
      java.util.Map<String, dev.codebook.index.filter.AttributeValue>> decoder) {
    var idx = attributeIndex;
    if (idx == null) {
      synchronized (this) {
        idx = attributeIndex;
        if (idx == null) {
          idx = new dev.codebook.index.filter.AttributeIndex();
          for (int r = 0; r < size; r++) {
            idx.add(r, decoder.apply(attributes[r]));
          }
          attributeIndex = idx;
        }
      }
    }
    return idx;
  }

  float[] vector(int row) {
    float[] v = new float[dim];
    vector(row, v, 0);
    return v;
  }

  int liveCount() {
    return size - deletes.getCardinality();
  }

  List<String> files() {
    List<String> out = new ArrayList<>(files);
    return out;
  }

  /** The name of the current deletion generation file, or null. */
  String deletesFile() {
    return delGen > 0 ? StoreFiles.deletes(number, delGen) : null;
  }

  Manifest.SegmentInfo info() {
    return new Manifest.SegmentInfo(number, id, size, codebookVersion, delGen,
        delGen > 0 ? committedDelCount : 0);
  }

  /** Cardinality of the committed deletion generation. */
  int committedDelCount;

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

  /** Full vectors for RFlat, as written: the index rotates its query back, divides by norms. */
  private final class Raw implements RawVectors {
    /** Where {@link #prefetch} leaves its loads' sum; never read. */
    private float sink;

    @Override
    public int dimension() {
      return dim;
    }

    @Override
    public int size() {
      return size;
    }

    @Override
    public void add(float[] data, int n) {
      throw new UnsupportedOperationException("a segment is immutable");
    }

    @Override
    public void get(int id, float[] dst, int dstOffset) {
      vector(id, dst, dstOffset);
    }

    @Override
    public void prefetch(int[] ids, int n) {
      sink += MappedRawVectors.touch(chunks, rowsPerChunk, dim, ids, n);
    }

    /** The segment's vectors as written: the index adapts its query and scores instead. */
    @Override
    public boolean original() {
      return true;
    }

    @Override
    public void close() {}
  }
}
