package dev.codebook.index.ivf;

import dev.codebook.index.IndexSpec;
import dev.codebook.index.fastscan.FastScan8Layout;
import dev.codebook.index.fastscan.FastScanLayout;
import dev.codebook.index.quant.OpqRotation;
import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.lucene.codecs.CodecUtil;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.store.DataInput;
import org.apache.lucene.store.DataOutput;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexOutput;
import org.apache.lucene.util.StringHelper;

/**
 * Saves and loads an {@link IvfPqIndex} as one checksummed file through Lucene's {@link
 * Directory} API.
 *
 * <p>Layout (Lucene data types: vInt variable-length, ints and floats little-endian):
 *
 * <pre>
 * IndexHeader(codec "CodebookIvfPq", version, random 16-byte id, suffix "")
 * String spec                  FAISS factory string, e.g. "IVF256,PQ48x4fs,RFlat"
 * Byte   similarity            ordinal of {@link Similarity}
 * VInt   dimension, VInt size  vectors in the index
 * Float[dimension * dimension] OPQ rotation R, row-major (y = R x), only with OPQ (version 1)
 * VInt   nlist                 0 without IVF
 * Float[nlist * dimension]     coarse centroids, row-major
 * Byte   preselector           1 if the centroids' PQ follows, else 0; only with IVF (version 3)
 *   VInt m', VInt nbits' (4); Float[m' * 16 * dimension / m'] the centroids' PQ, [m'][16][dsub]
 * VInt   m, VInt nbits
 * Float[m * 2^nbits * dsub]    PQ centroids [m][ksub][dsub]
 * per list (1 without IVF):
 *   VInt n; Int[n] ids; VInt codeBytes; Byte[codeBytes] codes ({@link FastScanLayout} or
 *   {@link FastScan8Layout} blocks of 64 vectors; 8-bit codes contiguous before version 2)
 * Float[size * dimension]      full vectors by id, only with RFlat
 * Footer(CRC32)
 * </pre>
 *
 * The whole file is verified against its checksum before anything is parsed, and every length
 * is checked against the header's shape, so a truncated or corrupted file fails with a {@link
 * CorruptIndexException} naming it instead of building a wrong index.
 */
public final class IvfPqIndexFormat {

  static final String CODEC = "CodebookIvfPq";
  static final int VERSION_START = 0;
  /** Adds the OPQ rotation; a version-0 file never has one (OPQ could not be built then). */
  static final int VERSION_OPQ = 1;
  /** 8-bit codes in {@link FastScan8Layout} blocks; before, contiguous ({@code m} bytes each). */
  static final int VERSION_BLOCKED8 = 2;
  /**
   * Stores the PQ of the coarse centroids' pre-selector (from {@value
   * CoarseQuantizer#FAST_PROBE_MIN_NLIST} lists), trained at build time; an earlier file with
   * that many lists trains it on open, with the same seed, so it searches identically.
   */
  static final int VERSION_PRESELECTOR = 3;
  static final int VERSION_CURRENT = VERSION_PRESELECTOR;
  /**
   * The code layout version {@link #writeLists} records: the lists' layout has not changed since
   * version 2, so segment files stay readable by the readers that knew it.
   */
  static final int LIST_LAYOUT_CURRENT = VERSION_BLOCKED8;

  private IvfPqIndexFormat() {}

  /** Writes {@code index} to {@code file} (replaced if it exists). */
  public static void write(IvfPqIndex index, Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Files.deleteIfExists(file);
    try (Directory d = FSDirectory.open(dir);
        IndexOutput out = d.createOutput(file.getFileName().toString(), IOContext.DEFAULT)) {
      CodecUtil.writeIndexHeader(out, CODEC, VERSION_CURRENT, StringHelper.randomId(), "");
      out.writeString(index.spec().toString());
      out.writeByte((byte) index.similarity().ordinal());
      int dim = index.dimension();
      out.writeVInt(dim);
      out.writeVInt(index.size());
      writeQuantizers(out, dim, index.rotation(), index.coarse(), index.pq());
      writeListBodies(out, index.lists());
      RawVectors raw = index.raw();
      if (raw != null) {
        float[] row = new float[dim];
        for (int id = 0; id < index.size(); id++) {
          raw.get(id, row, 0);
          writeFloats(out, row, dim);
        }
      }
      CodecUtil.writeFooter(out);
    }
  }

  /**
   * Reads an index written by {@link #write}; RFlat vectors are copied to {@code raw}.
   *
   * @throws CorruptIndexException naming the file for a bad checksum, header, or length
   */
  public static IvfPqIndex read(Path file, RawVectorsFactory rawFactory) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    String name = file.getFileName().toString();
    try (Directory d = FSDirectory.open(dir);
        IndexInput in = d.openInput(name, IOContext.READONCE)) {
      // Verify every byte before trusting any length read from them.
      CodecUtil.checksumEntireFile(in);
      in.seek(0);
      int version = CodecUtil.checkHeader(in, CODEC, VERSION_START, VERSION_CURRENT);
      byte[] id = new byte[StringHelper.ID_LENGTH];
      in.readBytes(id, 0, id.length);
      CodecUtil.checkIndexHeaderSuffix(in, "");
      IvfPqIndex index = readBody(in, version, rawFactory);
      if (in.getFilePointer() != in.length() - CodecUtil.footerLength()) {
        throw new CorruptIndexException("unexpected bytes after the index body", in);
      }
      return index;
    } catch (java.nio.file.NoSuchFileException e) {
      throw e;
    } catch (CorruptIndexException e) {
      throw e;
    } catch (java.io.EOFException | IllegalArgumentException e) {
      throw new CorruptIndexException("malformed index file: " + e.getMessage(), file.toString(), e);
    }
  }

  /** Where a loaded RFlat index keeps its full vectors. */
  @FunctionalInterface
  public interface RawVectorsFactory {
    RawVectors create(int dimension) throws IOException;
  }

  private static IvfPqIndex readBody(IndexInput in, int version, RawVectorsFactory rawFactory)
      throws IOException {
    IndexSpec spec = readSpec(in);
    Similarity similarity = readSimilarity(in);
    int dim = checkRange(in, in.readVInt(), 1, 1 << 16, "dimension");
    int size = checkRange(in, in.readVInt(), 0, Integer.MAX_VALUE, "size");
    IvfPqCodebook q = readQuantizers(in, spec, similarity, dim, version);
    int m = q.pq().m();
    RawVectors raw = spec.refineFlat() ? rawFactory.create(dim) : null;
    IvfPqIndex index = new IvfPqIndex(spec, similarity, q.coarse(), q.pq(), raw, q.rotation());
    readListBodies(in, index, size, version < VERSION_BLOCKED8 && !spec.fastScan(), m);
    if (raw != null) {
      float[] batch = new float[dim * 1024];
      for (int id = 0; id < size; id += 1024) {
        int n = Math.min(1024, size - id);
        in.readFloats(batch, 0, n * dim);
        raw.add(n == 1024 ? batch : java.util.Arrays.copyOf(batch, n * dim), n);
      }
    }
    return index;
  }

  /**
   * Writes the quantizers of {@code codebook} (no lists, no vectors):
   *
   * <pre>
   * String spec; Byte similarity; VInt dimension
   * Float[dimension * dimension]  OPQ rotation, only with OPQ
   * VInt nlist; Float[nlist * dimension] coarse centroids
   * Byte preselector [VInt m'; VInt nbits'; Float[m' * 16 * dsub'];
   *                  VInt floor; VInt maxNprobe]    only with IVF (version 3): the centroids'
   *                  PQ and its calibration (floor 0: no pre-selection), see PreselectorCalibration
   * VInt m; VInt nbits; Float[m * 2^nbits * dsub] PQ centroids
   * </pre>
   *
   * in the layout of version {@link #VERSION_CURRENT}, which the caller records to read it back
   * ({@link #readCodebook}). The caller writes the header and footer of the file this goes into.
   */
  public static void writeCodebook(DataOutput out, IvfPqCodebook codebook) throws IOException {
    out.writeString(codebook.spec().toString());
    out.writeByte((byte) codebook.similarity().ordinal());
    int dim = codebook.dimension();
    out.writeVInt(dim);
    writeQuantizers(out, dim, codebook.rotation(), codebook.coarse(), codebook.pq());
  }

  /** Rotation (only with OPQ), coarse centroids and PQ centroids: both file kinds share them. */
  private static void writeQuantizers(DataOutput out, int dim, OpqRotation rotation,
      CoarseQuantizer coarse, ProductQuantizer pq) throws IOException {
    if (rotation != null) {
      writeFloats(out, rotation.matrix(), dim * dim);
    }
    out.writeVInt(coarse == null ? 0 : coarse.nlist());
    if (coarse != null) {
      writeFloats(out, coarse.centroids().data(), coarse.nlist() * dim);
      ProductQuantizer pre = coarse.preselectorPq();
      out.writeByte((byte) (pre == null ? 0 : 1));
      if (pre != null) {
        out.writeVInt(pre.m());
        out.writeVInt(pre.nbits());
        writeFloats(out, pre.centroids(), pre.centroids().length);
        out.writeVInt(coarse.calibration().floor());
        out.writeVInt(coarse.calibration().maxNprobe());
      }
    }
    out.writeVInt(pq.m());
    out.writeVInt(pq.nbits());
    writeFloats(out, pq.centroids(), pq.centroids().length);
  }

  /**
   * Reads what {@link #writeCodebook} wrote in the layout of format version {@code version}
   * ({@link #VERSION_BLOCKED8} for codebooks written before the pre-selector was stored, whose
   * pre-selector is then trained here).
   *
   * @throws CorruptIndexException for a shape that does not fit the spec
   */
  public static IvfPqCodebook readCodebook(IndexInput in, int version) throws IOException {
    if (version < VERSION_START || version > VERSION_CURRENT) {
      throw new IllegalArgumentException("no codebook layout version " + version);
    }
    IndexSpec spec = readSpec(in);
    Similarity similarity = readSimilarity(in);
    int dim = checkRange(in, in.readVInt(), 1, 1 << 16, "dimension");
    return readQuantizers(in, spec, similarity, dim, version);
  }

  /** The layout version of the codebooks {@link #writeCodebook} writes. */
  public static int codebookVersion() {
    return VERSION_CURRENT;
  }

  /** The layout version of codebooks written before the pre-selector's PQ was stored. */
  public static int codebookVersionWithoutPreselector() {
    return VERSION_BLOCKED8;
  }

  private static IndexSpec readSpec(DataInput in) throws IOException {
    try {
      return IndexSpec.parse(in.readString());
    } catch (IllegalArgumentException e) {
      throw new CorruptIndexException("bad index spec: " + e.getMessage(), in);
    }
  }

  private static Similarity readSimilarity(DataInput in) throws IOException {
    int ordinal = in.readByte();
    if (ordinal < 0 || ordinal >= Similarity.values().length) {
      throw new CorruptIndexException("bad similarity " + ordinal, in);
    }
    return Similarity.values()[ordinal];
  }

  /** Reads what {@link #writeQuantizers} wrote, checking each shape against the spec. */
  private static IvfPqCodebook readQuantizers(IndexInput in, IndexSpec spec,
      Similarity similarity, int dim, int version) throws IOException {
    OpqRotation rotation = null;
    if (spec.opqM() > 0) {
      if (version < VERSION_OPQ) {
        throw new CorruptIndexException("OPQ in a version " + version + " file", in);
      }
      if (dim % spec.opqM() != 0) {
        throw new CorruptIndexException(spec + " does not fit dimension " + dim, in);
      }
      rotation = new OpqRotation(dim, readFloats(in, Math.multiplyExact(dim, dim)));
    }
    int nlist = in.readVInt();
    if (nlist != spec.nlist()) {
      throw new CorruptIndexException("nlist " + nlist + " but spec " + spec, in);
    }
    CoarseQuantizer coarse = null;
    if (nlist > 0) {
      FloatMatrix centroids = new FloatMatrix(nlist, dim,
          readFloats(in, Math.multiplyExact(nlist, dim)));
      boolean innerProduct = similarity != Similarity.EUCLIDEAN;
      if (version < VERSION_PRESELECTOR) {
        // Written before the pre-selector was stored: train it now, as opening did then.
        coarse = CoarseQuantizer.build(centroids, innerProduct);
      } else {
        ProductQuantizer pre = readPreselector(in, nlist, dim);
        coarse = new CoarseQuantizer(centroids, innerProduct, pre,
            pre == null ? PreselectorCalibration.UNCALIBRATED : readCalibration(in, nlist));
      }
    }
    int m = in.readVInt();
    int nbits = in.readVInt();
    if (m != spec.pqM() || nbits != spec.nbits() || dim % m != 0) {
      throw new CorruptIndexException("PQ" + m + "x" + nbits + " does not fit " + spec
          + " at dimension " + dim, in);
    }
    ProductQuantizer pq = new ProductQuantizer(dim, m, nbits,
        readFloats(in, Math.multiplyExact(m, Math.multiplyExact(1 << nbits, dim / m))));
    return new IvfPqCodebook(spec, similarity, rotation, coarse, pq);
  }

  /** The pre-selector's calibration after its PQ (version 3). */
  private static PreselectorCalibration readCalibration(IndexInput in, int nlist)
      throws IOException {
    int floor = in.readVInt();
    int maxNprobe = in.readVInt();
    if (floor < 0 || floor > nlist || maxNprobe < 0 || (floor == 0) != (maxNprobe == 0)) {
      throw new CorruptIndexException("pre-selector calibration: floor " + floor
          + ", max nprobe " + maxNprobe + " with " + nlist + " lists", in);
    }
    return new PreselectorCalibration(floor, maxNprobe);
  }

  /** The pre-selector's PQ after the centroids (version 3), checked against the list count. */
  private static ProductQuantizer readPreselector(IndexInput in, int nlist, int dim)
      throws IOException {
    int flag = in.readByte();
    if (flag != 0 && flag != 1) {
      throw new CorruptIndexException("bad pre-selector flag " + flag, in);
    }
    if ((flag == 1) != (nlist >= CoarseQuantizer.FAST_PROBE_MIN_NLIST)) {
      throw new CorruptIndexException((flag == 1 ? "a" : "no") + " pre-selector with " + nlist
          + " lists", in);
    }
    if (flag == 0) {
      return null;
    }
    int m = in.readVInt();
    int nbits = in.readVInt();
    if (m <= 0 || m > dim || dim % m != 0 || nbits != CentroidPreselector.NBITS) {
      throw new CorruptIndexException("pre-selector PQ" + m + "x" + nbits
          + " does not fit dimension " + dim, in);
    }
    return new ProductQuantizer(dim, m, nbits,
        readFloats(in, Math.multiplyExact(m, Math.multiplyExact(1 << nbits, dim / m))));
  }

  /**
   * Writes the inverted lists of {@code index} (no quantizers): VInt layoutVersion (this
   * format's version, which fixes the code layout), VInt size, then per list VInt n, Int[n] ids,
   * VInt codeBytes, Byte[codeBytes] codes.
   */
  public static void writeLists(DataOutput out, IvfPqIndex index) throws IOException {
    out.writeVInt(LIST_LAYOUT_CURRENT);
    out.writeVInt(index.size());
    writeListBodies(out, index.lists());
  }

  /** Per list: VInt n, Int[n] ids, VInt codeBytes, Byte[codeBytes] codes. */
  private static void writeListBodies(DataOutput out, InvertedLists lists) throws IOException {
    for (int l = 0; l < lists.nlist(); l++) {
      int n = lists.listSize(l);
      out.writeVInt(n);
      int[] ids = lists.ids(l);
      for (int i = 0; i < n; i++) {
        out.writeInt(ids[i]);
      }
      int bytes = lists.codeBytes(n);
      out.writeVInt(bytes);
      out.writeBytes(lists.codes(l), 0, bytes);
    }
  }

  /**
   * Reads lists written by {@link #writeLists} into the empty {@code index}, checking every
   * length against {@code expectedSize} and the index's shape.
   */
  public static void readLists(IndexInput in, IvfPqIndex index, int expectedSize)
      throws IOException {
    int version = in.readVInt();
    if (version < VERSION_START || version > LIST_LAYOUT_CURRENT) {
      throw new CorruptIndexException("code layout version " + version + " not in ["
          + VERSION_START + ", " + LIST_LAYOUT_CURRENT + "]", in);
    }
    boolean contiguous8 = version < VERSION_BLOCKED8 && !index.spec().fastScan();
    int m = index.spec().pqM();
    int size = in.readVInt();
    if (size != expectedSize) {
      throw new CorruptIndexException("lists hold " + size + " vectors, expected "
          + expectedSize, in);
    }
    readListBodies(in, index, size, contiguous8, m);
  }

  /**
   * Reads the {@code nlist} lists of {@code size} vectors in all into {@code index}: per list its
   * length, ids and code bytes, each checked against the header and the index's shape. {@code
   * contiguous8}: 8-bit codes as versions before 2 stored them, re-blocked on the way in.
   */
  private static void readListBodies(IndexInput in, IvfPqIndex index, int size,
      boolean contiguous8, int m) throws IOException {
    int lists = index.nlist();
    int[][] ids = new int[lists][];
    byte[][] codes = new byte[lists][];
    int[] sizes = new int[lists];
    long total = 0;
    for (int l = 0; l < lists; l++) {
      int n = checkRange(in, in.readVInt(), 0, size, "list " + l + " size");
      total += n;
      if (total > size) {
        throw new CorruptIndexException("lists hold more than " + size + " vectors", in);
      }
      ids[l] = new int[Math.max(n, 1)];
      in.readInts(ids[l], 0, n);
      for (int i = 0; i < n; i++) {
        if (ids[l][i] < 0 || ids[l][i] >= size) {
          throw new CorruptIndexException("list " + l + ": id " + ids[l][i] + " out of range", in);
        }
      }
      int bytes = in.readVInt();
      int expected = contiguous8 ? Math.multiplyExact(n, m) : index.lists().codeBytes(n);
      if (bytes != expected) {
        throw new CorruptIndexException("list " + l + ": " + bytes + " code bytes for " + n
            + " vectors, expected " + expected, in);
      }
      codes[l] = new byte[Math.max(bytes, 1)];
      in.readBytes(codes[l], 0, bytes);
      if (contiguous8) {
        codes[l] = FastScan8Layout.fromContiguous(codes[l], n, m);
      }
      sizes[l] = n;
    }
    if (total != size) {
      throw new CorruptIndexException("lists hold " + total + " vectors, header says " + size, in);
    }
    index.restoreLists(ids, codes, sizes, size);
  }

  private static int checkRange(DataInput in, int v, int lo, int hi, String what)
      throws CorruptIndexException {
    if (v < lo || v > hi) {
      throw new CorruptIndexException(what + " " + v + " out of [" + lo + ", " + hi + "]",
          in.toString());
    }
    return v;
  }

  /** Writes {@code len} floats little-endian, in 256 KiB pieces. */
  public static void writeFloats(DataOutput out, float[] src, int len) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(4 * Math.min(len, 1 << 16)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < len; ) {
      int n = Math.min(len - i, buf.capacity() / 4);
      buf.clear();
      buf.asFloatBuffer().put(src, i, n);
      out.writeBytes(buf.array(), 0, 4 * n);
      i += n;
    }
  }

  private static float[] readFloats(DataInput in, int n) throws IOException {
    float[] out = new float[n];
    in.readFloats(out, 0, n);
    return out;
  }
}
