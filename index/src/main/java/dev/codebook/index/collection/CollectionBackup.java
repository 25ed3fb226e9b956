package dev.codebook.index.collection;

import dev.codebook.index.store.BackupFile;
import dev.codebook.index.store.StoreFiles;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;

/**
 * Backup and restore of a collection directory. A backup commits under the write lock, notes
 * the committed files and the log's length, then copies them (writes go on; flushes and merges
 * wait on the maintenance lock) and writes a {@link BackupFile table of contents} last; restore
 * checks every file against it, then opens the copy.
 */
final class CollectionBackup {

  private final EngineState st;
  private final Committer committer;

  CollectionBackup(EngineState st, Committer committer) {
    this.st = st;
    this.committer = committer;
  }

  /** @see CollectionEngine#backup */
  CollectionEngine.BackupResult backup(Path target) throws IOException {
    if (Files.exists(target)) {
      try (var s = Files.list(target)) {
        if (s.findAny().isPresent()) {
          throw new IllegalArgumentException("backup target " + target + " is not empty");
        }
      }
    }
    Files.createDirectories(target);
    st.maintenance.lock();
    try {
      Map<String, Long> files = new HashMap<>();
      long live;
      long gen;
      st.lock.writeLock().lock();
      try {
        st.ensureOpen();
        committer.commit();
        live = st.liveCount;
        gen = st.manifestGen;
        files.put(StoreFiles.manifest(st.manifestGen), -1L);
        if (st.codebookVersion > 0) {
          files.put(StoreFiles.codebook(st.codebookVersion), -1L);
        }
        for (Segment s : st.segments) {
          for (String f : s.files()) {
            files.put(f, -1L);
          }
          String del = s.deletesFile();
          if (del != null) {
            files.put(del, -1L);
          }
          if (s.codebookVersion > 0) {
            files.put(StoreFiles.codebook(s.codebookVersion), -1L);
          }
        }
        long current = st.wal.generation();
        for (String name : st.dir.listAll()) {
          long g = StoreFiles.walGeneration(name);
          if (g >= 0 && g < current) {
            files.put(name, -1L);
          }
        }
        files.put(StoreFiles.wal(current), st.wal.position());
      } finally {
        st.lock.writeLock().unlock();
      }
      long bytes = 0;
      List<BackupFile.Entry> written = new ArrayList<>(files.size());
      try (Directory out = FSDirectory.open(target)) {
        for (Map.Entry<String, Long> e : files.entrySet()) {
          Path dst = target.resolve(e.getKey());
          long crc = copy(st.path.resolve(e.getKey()), dst, e.getValue());
          long len = Files.size(dst);
          written.add(new BackupFile.Entry(e.getKey(), len, crc));
          bytes += len;
        }
        out.sync(files.keySet());
        // Last: its presence marks the backup complete.
        BackupFile.write(out, written);
        out.syncMetaData();
        bytes += Files.size(target.resolve(BackupFile.NAME));
      }
      return new CollectionEngine.BackupResult(files.size() + 1, bytes, live, gen);
    } finally {
      st.maintenance.unlock();
    }
  }

  /** Whether {@code path} holds a complete backup made by {@link #backup}. */
  static boolean isBackup(Path path) throws IOException {
    return CollectionEngine.exists(path) && Files.isRegularFile(path.resolve(BackupFile.NAME));
  }

  /**
   * Copies the backup in {@code backup} into {@code target}, checking every file against the
   * table of contents; the caller then opens it.
   *
   * @see CollectionEngine#restore
   */
  static void restoreFiles(Path backup, Path target) throws IOException {
    if (!isBackup(backup)) {
      throw new IllegalArgumentException(backup + " is not a complete collection backup (no"
          + " manifest_N and " + BackupFile.NAME + " files)");
    }
    if (CollectionEngine.exists(target)) {
      throw new IllegalArgumentException("restore target " + target + " already holds a"
          + " collection");
    }
    List<BackupFile.Entry> entries;
    try (Directory in = FSDirectory.open(backup)) {
      entries = BackupFile.read(in);
    }
    Files.createDirectories(target);
    List<String> names = new ArrayList<>();
    for (BackupFile.Entry e : entries) {
      Path src = backup.resolve(e.name());
      if (!Files.isRegularFile(src)) {
        throw new CorruptIndexException("file listed in " + BackupFile.NAME + " is missing",
            src.toString());
      }
      long len = Files.size(src);
      if (len != e.length()) {
        throw new CorruptIndexException("length " + len + " but the backup recorded "
            + e.length() + ": truncated or changed?", src.toString());
      }
      long crc = copy(src, target.resolve(e.name()), -1);
      if (crc != e.crc32()) {
        throw new CorruptIndexException("checksum failed: crc32 " + Long.toHexString(crc)
            + " but the backup recorded " + Long.toHexString(e.crc32()), src.toString());
      }
      names.add(e.name());
    }
    try (Directory d = FSDirectory.open(target)) {
      d.sync(names);
      d.syncMetaData();
    }
  }

  /**
   * Copies the first {@code length} bytes of {@code src} (all when negative) into the new file
   * {@code dst}; returns their CRC32.
   */
  private static long copy(Path src, Path dst, long length) throws IOException {
    CRC32 crc = new CRC32();
    ByteBuffer buf = ByteBuffer.allocate(1 << 20);
    try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ);
        FileChannel out = FileChannel.open(dst, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE)) {
      long left = length < 0 ? in.size() : length;
      while (left > 0) {
        buf.clear().limit((int) Math.min(buf.capacity(), left));
        int n = in.read(buf);
        if (n < 0) {
          throw new EOFException(src + " ended " + left + " bytes early");
        }
        buf.flip();
        crc.update(buf.duplicate());
        while (buf.hasRemaining()) {
          out.write(buf);
        }
        left -= n;
      }
    }
    return crc.getValue();
  }
}
