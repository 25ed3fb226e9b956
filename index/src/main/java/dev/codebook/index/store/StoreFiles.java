package dev.codebook.index.store;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import org.apache.lucene.codecs.CodecUtil;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.store.IndexOutput;

/**
 * Names of the files in a collection directory, and the one way they are opened for reading:
 * checksum of the whole file verified first, then the header (codec, version, id) checked.
 *
 * <pre>
 * manifest_N              the commit point N (see {@link Manifest}); pending_manifest_N while written
 * codebook_V              trained quantizers, version V (see {@link CodebookFile})
 * _S.vec _S.ids [_S.ivf]  segment S: vectors, ids and attributes, codes (see {@link SegmentWriter})
 * _S_G.del                deletions of segment S, generation G (see {@link DeletesFile})
 * wal_G.log               write-ahead log generation G (see {@link WriteAheadLog})
 * backup_files            in a backup only: its table of contents (see {@link BackupFile})
 * write.lock              the OS lock of the process that has the directory open, and
 * write.lock.holder       who that is, for the refusal of a second one (see {@link DirectoryLock})
 * </pre>
 */
public final class StoreFiles {

  private StoreFiles() {}

  public static String segment(long seg, String ext) {
    return "_" + seg + "." + ext;
  }

  public static String deletes(long seg, long gen) {
    return "_" + seg + "_" + gen + ".del";
  }

  public static String codebook(int version) {
    return "codebook_" + version;
  }

  public static String manifest(long gen) {
    return "manifest_" + gen;
  }

  public static String pendingManifest(long gen) {
    return "pending_manifest_" + gen;
  }

  public static String wal(long gen) {
    return "wal_" + gen + ".log";
  }

  /** The generation of a {@code wal_G.log} name, or -1. */
  public static long walGeneration(String name) {
    return numberBetween(name, "wal_", ".log");
  }

  /** The generation of a {@code manifest_N} name, or -1. */
  public static long manifestGeneration(String name) {
    return numberBetween(name, "manifest_", "");
  }

  /** Whether {@code name} is a file this store writes (and so may delete when unreferenced). */
  public static boolean isStoreFile(String name) {
    return name.startsWith("_") || name.startsWith("manifest_") || name.startsWith("codebook_")
        || name.startsWith("pending_manifest_") || name.startsWith("wal_");
  }

  private static long numberBetween(String name, String prefix, String suffix) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)
        || name.length() <= prefix.length() + suffix.length()) {
      return -1;
    }
    String digits = name.substring(prefix.length(), name.length() - suffix.length());
    for (int i = 0; i < digits.length(); i++) {
      if (!Character.isDigit(digits.charAt(i))) {
        return -1;
      }
    }
    try {
      return Long.parseLong(digits);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Opens {@code name}, verifies its whole checksum and its header, and leaves the input just
   * after the header. Lengths read afterwards come from verified bytes.
   *
   * @return the input; the format version is {@link Opened#version}
   * @throws CorruptIndexException naming the file for a bad checksum, header, codec or id
   */
  static Opened open(Directory dir, String name, String codec, int minVersion, int maxVersion,
      byte[] expectedId) throws IOException {
    IndexInput in = dir.openInput(name, IOContext.DEFAULT);
    boolean ok = false;
    try {
      if (in.length() < CodecUtil.indexHeaderLength(codec, "") + CodecUtil.footerLength()) {
        throw new CorruptIndexException("file too short (" + in.length() + " bytes) for a "
            + codec + " file: truncated?", in);
      }
      CodecUtil.checksumEntireFile(in);
      in.seek(0);
      int version;
      if (expectedId != null) {
        version = CodecUtil.checkIndexHeader(in, codec, minVersion, maxVersion, expectedId, "");
      } else {
        version = CodecUtil.checkHeader(in, codec, minVersion, maxVersion);
        in.skipBytes(org.apache.lucene.util.StringHelper.ID_LENGTH);
        CodecUtil.checkIndexHeaderSuffix(in, "");
      }
      ok = true;
      return new Opened(in, version);
    } finally {
      if (!ok) {
        in.close();
      }
    }
  }

  /** An opened, verified file. */
  record Opened(IndexInput in, int version) {}

  /** Fails unless the body ended right before the footer. */
  static void checkEnd(IndexInput in) throws CorruptIndexException {
    if (in.getFilePointer() != in.length() - CodecUtil.footerLength()) {
      throw new CorruptIndexException("unexpected bytes after the body: at "
          + in.getFilePointer() + " of " + in.length(), in);
    }
  }

  /** Writes a file with header and footer in one go, then fsyncs it. */
  static void write(Directory dir, String name, String codec, int version, byte[] id,
      BodyWriter body) throws IOException {
    try (IndexOutput out = dir.createOutput(name, IOContext.DEFAULT)) {
      CodecUtil.writeIndexHeader(out, codec, version, id, "");
      body.write(out);
      CodecUtil.writeFooter(out);
    }
    dir.sync(java.util.List.of(name));
  }

  /** Writes a file's body. */
  @FunctionalInterface
  interface BodyWriter {
    void write(IndexOutput out) throws IOException;
  }

  /** Deletes {@code name} if it exists. */
  public static void deleteQuietly(Directory dir, String name) {
    try {
      dir.deleteFile(name);
    } catch (NoSuchFileException e) {
      // already gone
    } catch (IOException e) {
      // retried by the next clean-up
    }
  }

  static int checkCount(IndexInput in, int v, long max, String what)
      throws CorruptIndexException {
    if (v < 0 || v > max) {
      throw new CorruptIndexException(what + " " + v + " out of [0, " + max + "]", in);
    }
    return v;
  }
}
