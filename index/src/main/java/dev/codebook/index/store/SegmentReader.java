package dev.codebook.index.store;

import dev.codebook.index.ivf.IvfPqCodebook;
import dev.codebook.index.ivf.IvfPqIndex;
import dev.codebook.index.ivf.IvfPqIndexFormat;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.IndexInput;
import org.roaringbitmap.RoaringBitmap;

/**
 * Reads the files of one segment written by {@link SegmentWriter} (and its {@link DeletesFile
 * deletion generation}), verifying the checksum, header, segment id and lengths of every file.
 * What it returns is immutable data; the collection engine adds the life cycle (references,
 * deletions that change, the index that searches it).
 */
public final class SegmentReader {

  private SegmentReader() {}

  /**
   * The contents of a segment's files.
   *
   * @param ids one id per local ordinal
   * @param attributes one attribute blob per local ordinal, as upserted
   * @param vectors the memory-mapped {@code _S.vec}
   * @param codes the inverted lists of {@code _S.ivf} (ids are local ordinals), or null for a
   *     segment without a codebook
   * @param deletes the committed deletion generation (empty when there is none)
   * @param files the names of the segment's files, its deletion generation included
   */
  public record Data(String[] ids, byte[][] attributes, SegmentVectors vectors, IvfPqIndex codes,
      RoaringBitmap deletes, List<String> files) {}

  /**
   * Opens segment {@code info}, verifying the checksum of every file.
   *
   * @param codebooks the codebook of a version (for encoded segments)
   * @throws CorruptIndexException naming the file for a bad, missing or mismatched file
   */
  public static Data read(Directory dir, Path path, Manifest.SegmentInfo info, int dim,
      IntFunction<IvfPqCodebook> codebooks) throws IOException {
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
      SegmentVectors vectors = mapVectors(dir, path, vecName, info, dim);
      RoaringBitmap deletes = new RoaringBitmap();
      if (info.delGen() > 0) {
        String del = StoreFiles.deletes(info.number(), info.delGen());
        files.add(del);
        deletes = DeletesFile.read(dir, del, info.id(), info.size(), info.delCount());
      } else if (info.delCount() != 0) {
        throw new CorruptIndexException("segment " + info.number() + " has " + info.delCount()
            + " deletions but no deletion file", idsName);
      }
      IvfPqIndex codes = null;
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
          codes = cb.newIndex(cb.spec().refineFlat() ? vectors : null);
          IvfPqIndexFormat.readLists(in, codes, info.size());
          StoreFiles.checkEnd(in);
        }
      }
      return new Data(ids, attrs, vectors, codes, deletes, List.copyOf(files));
    } catch (NoSuchFileException e) {
      throw new CorruptIndexException("segment " + info.number() + " file is missing: "
          + e.getMessage(), path.resolve(e.getFile() == null ? "?" : e.getFile()).toString(), e);
    }
  }

  /** Checks the {@code _S.vec} header and length, then maps its vectors. */
  private static SegmentVectors mapVectors(Directory dir, Path path, String vecName,
      Manifest.SegmentInfo info, int dim) throws IOException {
    long dataOffset = SegmentWriter.dataOffset();
    StoreFiles.Opened f = StoreFiles.open(dir, vecName, SegmentWriter.VEC_CODEC, 0,
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
    int rowsPerChunk = SegmentVectors.rowsPerChunk(dim);
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
    return new SegmentVectors(dim, info.size(), chunks, rowsPerChunk);
  }
}
