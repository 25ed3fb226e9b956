package dev.codebook.index.store;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.util.StringHelper;

/**
 * The table of contents of a backup, written last by {@code CollectionEngine#backup}: its
 * presence marks a complete backup, and {@code CollectionEngine#restore} checks every listed file
 * against it while copying. The write-ahead log has no footer, so without it a damaged record
 * at the end of a backed-up log would be dropped on open as if it were a torn write.
 *
 * <p>File {@code backup_files}:
 *
 * <pre>
 * IndexHeader(codec "CodebookBackup", version, random id, suffix "")
 * VInt  count
 * count x (String name; VLong length; Long crc32 of the whole file)
 * Footer(CRC32)
 * </pre>
 */
public final class BackupFile {

  public static final String NAME = "backup_files";
  static final String CODEC = "CodebookBackup";
  static final int VERSION_CURRENT = 0;

  /** Most files a backup may list (a collection has a few per segment). */
  static final int MAX_FILES = 1 << 20;

  /** One backed-up file. */
  public record Entry(String name, long length, long crc32) {}

  private BackupFile() {}

  public static void write(Directory dir, List<Entry> entries) throws IOException {
    StoreFiles.write(dir, NAME, CODEC, VERSION_CURRENT, StringHelper.randomId(), out -> {
      out.writeVInt(entries.size());
      for (Entry e : entries) {
        out.writeString(e.name());
        out.writeVLong(e.length());
        out.writeLong(e.crc32());
      }
    });
  }

  /**
   * @throws CorruptIndexException naming the file if it is damaged or lists a name that is not a
   *     store file
   */
  public static List<Entry> read(Directory dir) throws IOException {
    StoreFiles.Opened f = StoreFiles.open(dir, NAME, CODEC, 0, VERSION_CURRENT, null);
    try (IndexInput in = f.in()) {
      int n = StoreFiles.checkCount(in, in.readVInt(), MAX_FILES, "file count");
      List<Entry> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        String name = in.readString();
        // Names are joined to directories: only plain store file names.
        if (!StoreFiles.isStoreFile(name) || name.contains("/") || name.contains("\\")
            || name.contains("..")) {
          throw new CorruptIndexException("not a store file name: '" + name + "'", in);
        }
        out.add(new Entry(name, in.readVLong(), in.readLong()));
      }
      StoreFiles.checkEnd(in);
      return out;
    }
  }
}
