package dev.codebook.index.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.Lock;
import org.apache.lucene.store.LockObtainFailedException;
import org.apache.lucene.store.NativeFSLockFactory;

/**
 * One process at a time in a directory: Lucene's {@code write.lock}, taken through {@link
 * NativeFSLockFactory} (an OS file lock, released by the kernel when the holder dies, even by
 * SIGKILL, so a crash never leaves a stale lock behind), plus a {@value #HOLDER_FILE} file
 * beside it saying who holds it, so that the refusal can name the holder.
 *
 * <p>A data directory and each collection directory are locked before anything in them is
 * read, written or deleted: a second server, or an offline build, started on a directory a
 * server serves is refused before it can delete the live server's log files.
 */
public final class DirectoryLock implements Closeable {

  /** Lucene's name for the lock file. */
  public static final String LOCK_FILE = "write.lock";

  /** Who holds the lock: process id, command, start time; rewritten by each holder. */
  public static final String HOLDER_FILE = "write.lock.holder";

  private final Path path;
  private final Directory directory;
  private final Lock lock;
  private final boolean ownsDirectory;

  private DirectoryLock(Path path, Directory directory, Lock lock, boolean ownsDirectory) {
    this.path = path;
    this.directory = directory;
    this.lock = lock;
    this.ownsDirectory = ownsDirectory;
  }

  /**
   * Locks {@code path} (created if missing) for this process.
   *
   * @param what the kind of directory, for the refusal ("data directory", "collection")
   * @throws DirectoryLockedException if another process, or this one, holds it
   */
  public static DirectoryLock obtain(Path path, String what) throws IOException {
    Files.createDirectories(path);
    Directory dir = FSDirectory.open(path, NativeFSLockFactory.INSTANCE);
    try {
      return obtain(path, dir, what, true);
    } catch (IOException | RuntimeException e) {
      dir.close();
      throw e;
    }
  }

  /**
   * Locks the already opened {@code directory} of {@code path}; closing the lock leaves the
   * directory open.
   */
  public static DirectoryLock obtain(Path path, Directory directory, String what)
      throws IOException {
    return obtain(path, directory, what, false);
  }

  private static DirectoryLock obtain(Path path, Directory directory, String what,
      boolean ownsDirectory) throws IOException {
    Lock lock;
    try {
      lock = directory.obtainLock(LOCK_FILE);
    } catch (LockObtainFailedException e) {
      throw new DirectoryLockedException(path, what, holder(path, e));
    }
    try {
      Files.writeString(path.resolve(HOLDER_FILE), describeThisProcess() + "\n",
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      // The lock is what protects the directory; the holder file only improves a message.
    }
    return new DirectoryLock(path, directory, lock, ownsDirectory);
  }

  /**
   * Whether some process (this one included) holds the lock of {@code path} right now. Reads
   * only: a directory without a lock file is not locked, and nothing is created or written.
   */
  public static boolean isHeld(Path path) throws IOException {
    if (!Files.isRegularFile(path.resolve(LOCK_FILE))) {
      return false;
    }
    try (Directory dir = FSDirectory.open(path, NativeFSLockFactory.INSTANCE);
        Lock probe = dir.obtainLock(LOCK_FILE)) {
      return false;
    } catch (LockObtainFailedException e) {
      return true;
    }
  }

  /** Who holds the lock of {@code path} as its holder file says, or null. */
  public static String holderOf(Path path) {
    try {
      return Files.readString(path.resolve(HOLDER_FILE), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return null;
    }
  }

  /** The directory locked. */
  public Path path() {
    return path;
  }

  @Override
  public void close() throws IOException {
    try {
      lock.close();
    } finally {
      if (ownsDirectory) {
        directory.close();
      }
    }
  }

  /** Who holds the lock of {@code path}, as far as its holder file tells. */
  private static String holder(Path path, LockObtainFailedException e) {
    if (e.getMessage() != null && e.getMessage().contains("held by this virtual machine")) {
      return "this process (pid " + ProcessHandle.current().pid() + ") already has it open";
    }
    String text = holderOf(path);
    return text == null ? "another process (it left no " + HOLDER_FILE + ")"
        : "another process: " + text;
  }

  /**
   * {@code pid N since INSTANT: COMMAND}. No host name: an OS file lock is local to the
   * machine, and resolving the name can stall on a misconfigured resolver.
   */
  static String describeThisProcess() {
    ProcessHandle.Info info = ProcessHandle.current().info();
    return "pid " + ProcessHandle.current().pid() + " since " + Instant.now() + ": "
        + command(info);
  }

  /**
   * The command line after the main class when it is Codebook's launcher ({@code codebook serve
   * --port 7300}), else the whole one.
   */
  private static String command(ProcessHandle.Info info) {
    Optional<String[]> args = info.arguments();
    if (args.isEmpty()) {
      return info.command().orElse("java");
    }
    List<String> a = List.of(args.get());
    int main = a.indexOf("dev.codebook.cli.Main");
    if (main >= 0) {
      return "codebook " + String.join(" ", a.subList(main + 1, a.size()));
    }
    return info.command().orElse("java") + " " + String.join(" ", a);
  }

  /** Thrown when a directory's lock is held by another process, or already by this one. */
  public static final class DirectoryLockedException extends IOException {
    private final Path path;

    DirectoryLockedException(Path path, String what, String holder) {
      super(what + " " + path + " is in use by " + holder + "; stop that process first, or use"
          + " another directory");
      this.path = path;
    }

    /** The directory that is locked. */
    public Path path() {
      return path;
    }
  }
}
