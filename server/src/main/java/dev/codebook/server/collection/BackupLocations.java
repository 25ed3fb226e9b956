package dev.codebook.server.collection;

import dev.codebook.index.store.DirectoryLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Where a client may point the server's backups and restores: under one configured root, and
 * never inside the data directory. Every check is on real paths (symbolic links resolved), so a
 * link under the root cannot lead the server into its own data directory or anywhere else.
 *
 * <p>Without a root the server refuses both calls (FAILED_PRECONDITION, {@code
 * BACKUPS_DISABLED}): a client holding an API key must not be able to make the server write
 * wherever the server's account may.
 */
public final class BackupLocations {

  private final Path root;
  private final Path dataDir;

  /**
   * @param root the directory backups go under; null to refuse every backup and restore
   * @param dataDir the server's data directory, which no backup may be inside
   */
  public BackupLocations(Path root, Path dataDir) {
    this.root = root;
    this.dataDir = dataDir;
  }

  /**
   * The real path a backup into {@code requested} writes: created if missing (with its
   * parents), and checked to lie under the root and outside the data directory.
   *
   * @throws CollectionStateException BACKUPS_DISABLED without a root; BACKUP_TARGET_UNWRITABLE
   *     if the directory cannot be created
   * @throws InvalidFieldException if it lies outside the root or inside the data directory
   */
  public Path backupTarget(Path requested) {
    Path target = checked(requested);
    try {
      Files.createDirectories(target);
      // Created through the checked path; resolve again in case a link raced the creation.
      return checked(target.toRealPath());
    } catch (IOException e) {
      throw new CollectionStateException(CollectionStateException.BACKUP_TARGET_UNWRITABLE,
          "cannot create backup directory " + target + ": " + describe(e));
    }
  }

  /**
   * The real path of the backup in {@code requested}, checked like {@link #backupTarget}.
   *
   * @throws CollectionStateException NOT_A_BACKUP if it does not exist
   */
  public Path restoreSource(Path requested) {
    Path source = checked(requested);
    if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
      throw new CollectionStateException(CollectionStateException.NOT_A_BACKUP,
          source + " does not exist; pass a directory BackupCollection wrote");
    }
    return source;
  }

  /** {@code p} with every existing part's links resolved, if it lies where backups may go. */
  private Path checked(Path p) {
    if (root == null) {
      throw new CollectionStateException(CollectionStateException.BACKUPS_DISABLED,
          "backups and restores are off on this server: start it with --backup-root DIR (or"
              + " 'backup-root: DIR' in its config file) to allow them under DIR");
    }
    if (!p.isAbsolute()) {
      throw new InvalidFieldException("directory", InvalidFieldException.INVALID_VALUE,
          "directory must be an absolute path on the server, got '" + p + "'");
    }
    Path real = realPath(p.normalize());
    Path realRoot = realPath(root);
    if (real.startsWith(realPath(dataDir))) {
      throw new InvalidFieldException("directory", InvalidFieldException.INVALID_VALUE,
          "directory " + p + (real.equals(p.normalize()) ? "" : " (really " + real + ")")
              + " is inside the server's data directory; use one outside it");
    }
    for (Path dir = real; dir != null; dir = dir.getParent()) {
      if (lockedByAnother(dir)) {
        String holder = DirectoryLock.holderOf(dir);
        throw new InvalidFieldException("directory", InvalidFieldException.INVALID_VALUE,
            "directory " + p + " is inside " + dir + ", which a running process has open"
                + (holder == null ? "" : " (" + holder + ")") + "; use one outside it");
      }
    }
    if (!real.startsWith(realRoot)) {
      throw new InvalidFieldException("directory", InvalidFieldException.INVALID_VALUE,
          "directory " + p + (real.equals(p.normalize()) ? "" : " (really " + real + ")")
              + " is outside the server's backup root " + realRoot);
    }
    return real;
  }

  /** Whether {@code dir} is a data or collection directory some process holds open. */
  private static boolean lockedByAnother(Path dir) {
    try {
      return DirectoryLock.isHeld(dir);
    } catch (IOException e) {
      return false; // unreadable: the copy into it will fail and say so
    }
  }

  /**
   * {@code p} with the links of its longest existing prefix resolved and the rest appended;
   * the rest does not exist, so it holds no link.
   */
  static Path realPath(Path p) {
    Path abs = p.toAbsolutePath().normalize();
    Path existing = abs;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return abs;
    }
    try {
      return existing.toRealPath().resolve(existing.relativize(abs)).normalize();
    } catch (IOException e) {
      return abs;
    }
  }

  private static String describe(IOException e) {
    String kind = e.getClass().getSimpleName().replace("Exception", "");
    return e.getMessage() == null ? kind : kind + ": " + e.getMessage();
  }
}
