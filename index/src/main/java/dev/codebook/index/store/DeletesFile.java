package dev.codebook.index.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.IndexInput;
import org.roaringbitmap.RoaringBitmap;

/**
 * The deleted rows of one segment at one generation, so deleting never rewrites a segment: file
 * {@code _S_G.del}.
 *
 * <pre>
 * IndexHeader(codec "CodebookDeletes", version, segment id, suffix "")
 * VInt  segmentSize     rows in the segment
 * VInt  deleted         cardinality of the bitmap
 * VInt  length          bytes of the bitmap
 * Byte[length]          RoaringBitmap, portable serialization (deleted local ordinals)
 * Footer(CRC32)
 * </pre>
 */
public final class DeletesFile {

  static final String CODEC = "CodebookDeletes";
  static final int VERSION_CURRENT = 0;

  private DeletesFile() {}

  public static void write(Directory dir, String name, byte[] segmentId, int segmentSize,
      RoaringBitmap deleted) throws IOException {
    deleted.runOptimize();
    byte[] bytes = new byte[deleted.serializedSizeInBytes()];
    deleted.serialize(ByteBuffer.wrap(bytes));
    StoreFiles.write(dir, name, CODEC, VERSION_CURRENT, segmentId, out -> {
      out.writeVInt(segmentSize);
      out.writeVInt(deleted.getCardinality());
      out.writeVInt(bytes.length);
      out.writeBytes(bytes, 0, bytes.length);
    });
  }

  public static RoaringBitmap read(Directory dir, String name, byte[] segmentId, int segmentSize,
      int expectedDeleted) throws IOException {
    StoreFiles.Opened f = StoreFiles.open(dir, name, CODEC, 0, VERSION_CURRENT, segmentId);
    try (IndexInput in = f.in()) {
      int size = in.readVInt();
      if (size != segmentSize) {
        throw new CorruptIndexException("deletes of a " + size + "-row segment, manifest says "
            + segmentSize, in);
      }
      int count = StoreFiles.checkCount(in, in.readVInt(), size, "deleted count");
      int len = StoreFiles.checkCount(in, in.readVInt(), in.length() - in.getFilePointer(),
          "bitmap length");
      byte[] bytes = new byte[len];
      in.readBytes(bytes, 0, len);
      StoreFiles.checkEnd(in);
      RoaringBitmap bm = new RoaringBitmap();
      try {
        bm.deserialize(ByteBuffer.wrap(bytes));
      } catch (RuntimeException | IOException e) {
        throw new CorruptIndexException("bad deletion bitmap: " + e, in);
      }
      if (bm.getCardinality() != count || count != expectedDeleted
          || (!bm.isEmpty() && bm.last() >= size)) {
        throw new CorruptIndexException("deletion bitmap of " + bm.getCardinality()
            + " rows does not match its count " + count + " / manifest " + expectedDeleted, in);
      }
      return bm;
    }
  }
}
