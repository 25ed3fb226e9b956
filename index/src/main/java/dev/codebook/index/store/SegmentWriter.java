package dev.codebook.index.store;

import dev.codebook.index.ivf.IvfPqCodebook;
import dev.codebook.index.ivf.IvfPqIndex;
import dev.codebook.index.ivf.IvfPqIndexFormat;
import dev.codebook.index.ivf.RawVectors;
import dev.codebook.index.vector.FloatMatrix;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.IndexOutput;

/**
 * Writes an immutable segment: rows with dense local ordinals {@code 0..size-1}. Files (all with
 * {@code IndexHeader(codec, version, segment id, "")} and a CRC32 footer; the segment id is the
 * manifest's, so files of another segment are rejected):
 *
 * <pre>
 * _S.vec  codec "CodebookSegmentVectors"
 *         Int dimension; Int size; zero padding to a 64-byte boundary
 *         Float[size * dimension]  the vectors as upserted, row-major, little-endian
 *                                  (memory-mapped on read: exact search, re-ranking, get, merges)
 * _S.ids  codec "CodebookSegmentIds"
 *         VInt size; size x (String id; VInt len; Byte[len] attributes)
 * _S.ivf  codec "CodebookSegmentCodes", only when the collection has a codebook
 *         VInt codebookVersion; inverted lists, see {@link IvfPqIndexFormat#writeLists}
 *         (ids in the lists are local ordinals)
 * </pre>
 *
 * Deletions live in separate {@link DeletesFile generation files}. Every file is fsynced before
 * the manifest that names the segment is committed.
 */
public final class SegmentWriter {

  static final String VEC_CODEC = "CodebookSegmentVectors";
  static final String IDS_CODEC = "CodebookSegmentIds";
  static final String IVF_CODEC = "CodebookSegmentCodes";
  static final int VERSION_CURRENT = 0;
  static final int ALIGN = 64;
  /** Rows encoded per step, bounding the working copies. */
  static final int ENCODE_CHUNK = 1 << 16;

  private SegmentWriter() {}

  /** The rows a segment is written from. */
  public interface RowSource {
    int size();

    String id(int row);

    byte[] attributes(int row);

    void vector(int row, float[] dst, int offset);
  }

  /** Writes the segment files; returns the names written. */
  public static List<String> write(Directory dir, long number, byte[] segId, int dim,
      RowSource rows, IvfPqCodebook codebook, int codebookVersion) throws IOException {
    return write(dir, number, segId, dim, rows, codebook, codebookVersion, null);
  }

  /** Told after each encoded chunk; may throw (a cancelled build) to stop the write. */
  @FunctionalInterface
  public interface EncodeListener {
    void encoded(int chunk, int chunks);
  }

  /** Rows per chunk when a listener follows the encoding (progress and cancellation). */
  static final int LISTENED_CHUNK = 4096;

  public static List<String> write(Directory dir, long number, byte[] segId, int dim,
      RowSource rows, IvfPqCodebook codebook, int codebookVersion, EncodeListener listener)
      throws IOException {
    int n = rows.size();
    String vec = StoreFiles.segment(number, "vec");
    String ids = StoreFiles.segment(number, "ids");
    StoreFiles.write(dir, vec, VEC_CODEC, VERSION_CURRENT, segId, out -> {
      out.writeInt(dim);
      out.writeInt(n);
      pad(out);
      ByteBuffer buf = ByteBuffer.allocate(4 * dim * 256).order(ByteOrder.LITTLE_ENDIAN);
      float[] row = new float[dim];
      for (int r = 0; r < n; r += 256) {
        int count = Math.min(256, n - r);
        buf.clear();
        for (int i = 0; i < count; i++) {
          rows.vector(r + i, row, 0);
          buf.asFloatBuffer().position(i * dim).put(row);
        }
        out.writeBytes(buf.array(), 0, 4 * dim * count);
      }
    });
    StoreFiles.write(dir, ids, IDS_CODEC, VERSION_CURRENT, segId, out -> {
      out.writeVInt(n);
      for (int r = 0; r < n; r++) {
        out.writeString(rows.id(r));
        byte[] a = rows.attributes(r);
        out.writeVInt(a.length);
        out.writeBytes(a, 0, a.length);
      }
    });
    if (codebook == null) {
      return List.of(vec, ids);
    }
    String ivf = StoreFiles.segment(number, "ivf");
    IvfPqIndex index = encode(codebook, dim, rows, listener);
    StoreFiles.write(dir, ivf, IVF_CODEC, VERSION_CURRENT, segId, out -> {
      out.writeVInt(codebookVersion);
      IvfPqIndexFormat.writeLists(out, index);
    });
    return List.of(vec, ids, ivf);
  }

  /** Encodes every row with {@code codebook}; full vectors are not kept (the .vec has them). */
  static IvfPqIndex encode(IvfPqCodebook codebook, int dim, RowSource rows,
      EncodeListener listener) {
    IvfPqIndex index = codebook.newIndex(codebook.spec().refineFlat() ? new Discard(dim) : null);
    int n = rows.size();
    int chunk = listener == null ? ENCODE_CHUNK : LISTENED_CHUNK;
    int chunks = Math.max(1, (n + chunk - 1) / chunk);
    for (int from = 0, c = 0; from < n; from += chunk, c++) {
      int count = Math.min(chunk, n - from);
      float[] x = new float[count * dim];
      for (int i = 0; i < count; i++) {
        rows.vector(from + i, x, i * dim);
      }
      index.add(new FloatMatrix(count, dim, x));
      if (listener != null) {
        listener.encoded(c + 1, chunks);
      }
    }
    return index;
  }

  static long dataOffset() {
    long header = org.apache.lucene.codecs.CodecUtil.indexHeaderLength(VEC_CODEC, "") + 8;
    return (header + ALIGN - 1) / ALIGN * ALIGN;
  }

  private static void pad(IndexOutput out) throws IOException {
    long target = dataOffset();
    while (out.getFilePointer() < target) {
      out.writeByte((byte) 0);
    }
  }

  /** Counts what an encoding index would store for RFlat; the segment's .vec holds them. */
  private static final class Discard implements RawVectors {
    private final int dim;
    private int size;

    Discard(int dim) {
      this.dim = dim;
    }

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
      size += n;
    }

    @Override
    public void get(int id, float[] dst, int dstOffset) {
      throw new UnsupportedOperationException("an encoding index is not searched");
    }

    @Override
    public void close() {}
  }
}
