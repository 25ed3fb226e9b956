package dev.codebook.server.collection;

import dev.codebook.index.IndexSpec;
import dev.codebook.index.collection.CollectionEngine;
import dev.codebook.index.collection.CollectionOptions;
import dev.codebook.index.store.DirectoryLock;
import dev.codebook.index.vector.Similarity;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The collections a server holds, by id, in id order. Each lives in its own directory, {@code
 * <dataDir>/collections/<id>} (see {@link CollectionEngine}); {@link #open} reopens them all at
 * start-up. A collection that fails to open (a damaged or missing file) is held aside: calls to it
 * get DATA_LOSS naming the file, while every other collection serves; deleting it removes its
 * directory.
 */
public final class CollectionRegistry implements Closeable {

  private static final Logger LOG = LoggerFactory.getLogger(CollectionRegistry.class);

  /**
   * Collection ids (AIP-122): 1 to 63 characters, lower-case letters, digits and hyphens,
   * starting with a letter and not ending with a hyphen.
   */
  public static final Pattern ID = Pattern.compile("[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?");

  /** Largest dimension a collection accepts. */
  public static final int MAX_DIMENSION = 65_536;

  /** Sub-directory of the data directory that holds one directory per collection. */
  public static final String COLLECTIONS_DIR = "collections";

  /** Prefix of the directory a restore copies into before it becomes the collection's. */
  private static final String RESTORING_PREFIX = ".restoring-";

  private final ConcurrentSkipListMap<String, Collection> collections =
      new ConcurrentSkipListMap<>();
  private final Map<String, IOException> failed = new ConcurrentHashMap<>();
  /** Ids being restored: taken, though not yet listed. Guarded by this. */
  private final java.util.Set<String> restoring = new java.util.HashSet<>();
  private final Path root;
  private final CollectionOptions options;
  private final boolean ephemeral;
  /** The data directory's lock, held from before anything in it is touched until close. */
  private final DirectoryLock dataDirLock;

  private CollectionRegistry(Path dataDir, CollectionOptions options, boolean ephemeral,
      DirectoryLock dataDirLock) {
    this.dataDirLock = dataDirLock;
    this.root = dataDir.resolve(COLLECTIONS_DIR);
    // Filters see the stored attribute maps as the index's values.
    this.options = options.withAttributeDecoder(b -> Attributes.toIndex(Collection.decode(b)));
    this.ephemeral = ephemeral;
  }

  /**
   * A registry in a fresh temporary directory, deleted on {@link #close}: for tests and for
   * servers started without a data directory. Writes are not synced.
   */
  public CollectionRegistry() {
    this(lockedTempDir());
  }

  private CollectionRegistry(DirectoryLock tempDir) {
    this(tempDir.path(), CollectionOptions.defaults().withDurability(
        dev.codebook.index.store.Durability.none()), true, tempDir);
  }

  private static DirectoryLock lockedTempDir() {
    try {
      return DirectoryLock.obtain(Files.createTempDirectory("codebook-data-"), "data directory");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary data directory", e);
    }
  }

  /**
   * Opens (creating if needed) the data directory and every collection in it, after taking the
   * data directory's lock: nothing in it is read, written or deleted before.
   *
   * @return the registry; {@link #failures()} lists the collections that did not open
   * @throws DirectoryLock.DirectoryLockedException if another process has the directory open
   */
  public static CollectionRegistry open(Path dataDir, CollectionOptions options)
      throws IOException {
    DirectoryLock lock = DirectoryLock.obtain(dataDir, "data directory");
    try {
      return openAll(new CollectionRegistry(dataDir, options, false, lock));
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  private static CollectionRegistry openAll(CollectionRegistry r) throws IOException {
    Files.createDirectories(r.root);
    CollectionEngine.deleteLeftovers(r.root);
    r.deleteUnfinishedRestores();
    try (var dirs = Files.list(r.root)) {
      for (Path d : dirs.sorted().toList()) {
        String id = d.getFileName().toString();
        if (!Files.isDirectory(d) || !ID.matcher(id).matches()) {
          continue;
        }
        try {
          // r.options: the caller's plus the attribute decoder filters need.
          CollectionEngine store = CollectionEngine.open(d, r.options);
          r.collections.put(id, new Collection(id, store));
          CollectionEngine.OpenStats st = store.openStats();
          LOG.info("opened {}: {} vectors, {} segments, {} log records replayed in {} ms", id,
              store.liveCount(), st.segments(), st.replayedRecords(), st.millis());
        } catch (IOException | RuntimeException e) {
          IOException io = e instanceof IOException x ? x : new IOException(e.getMessage(), e);
          r.failed.put(id, io);
          LOG.error("cannot open collection {}: {}", id, e.getMessage());
        }
      }
    }
    return r;
  }

  /** The data directory: collections under it, and the server's own files (operations). */
  public Path dataDir() {
    return root.getParent();
  }

  /** The directory of collection {@code id}. */
  public Path directoryOf(String id) {
    return root.resolve(id);
  }

  /** Collections that failed to open, with why. */
  public Map<String, IOException> failures() {
    return Map.copyOf(failed);
  }

  /**
   * Creates an empty collection.
   *
   * @throws IllegalArgumentException for a bad id, dimension or a spec that does not fit it
   * @throws UnsupportedOperationException for a spec this release cannot build
   * @throws CollectionAlreadyExistsException if the id is taken
   */
  public Collection create(String id, int dimension, Similarity similarity, IndexSpec spec) {
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException("bad collection id '" + id + "': " + idRule());
    }
    if (dimension <= 0 || dimension > MAX_DIMENSION) {
      throw new IllegalArgumentException(
          "dimension must be 1 to " + MAX_DIMENSION + ", got " + dimension);
    }
    spec.validateFor(dimension);
    Collection.checkBuildable(spec);
    synchronized (this) {
      if (taken(id)) {
        throw new CollectionAlreadyExistsException(Collection.nameOf(id));
      }
      try {
        CollectionEngine store = CollectionEngine.create(root.resolve(id), dimension, similarity,
            spec, options);
        Collection c = new Collection(id, store);
        collections.put(id, c);
        return c;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create collection " + id + ": " + e.getMessage(),
            e);
      }
    }
  }

  /** Whether {@code id} names a collection, a failed one, a restore under way or a directory. */
  private boolean taken(String id) {
    return collections.containsKey(id) || failed.containsKey(id) || restoring.contains(id)
        || Files.exists(root.resolve(id));
  }

  /**
   * Backs collection {@code id} up into {@code target} (see {@link Collection#backup}).
   *
   * @throws InvalidFieldException if {@code target} is relative or inside the data directory
   */
  public Collection.BackupResult backup(String id, Path target) {
    Collection c = get(id);
    return c.backup(checkOutside(target));
  }

  /**
   * Creates collection {@code id} from a backup in {@code backup}: copied (and checked by
   * opening it) into {@code .restoring-ID-N} beside the collections, which is then renamed
   * atomically to the collection's directory and opened as at start-up. Until then the id is
   * taken but not listed; on failure the copy is removed, so nothing half-restored is left
   * (after a crash, {@link #open} removes it).
   *
   * @throws CollectionAlreadyExistsException if the id is taken
   * @throws CollectionStateException ({@code NOT_A_BACKUP}) if {@code backup} holds no backup
   * @throws UncheckedIOException wrapping a CorruptIndexException naming the damaged file
   */
  public Collection restore(String id, Path backup) {
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException("bad collection id '" + id + "': " + idRule());
    }
    Path from = checkOutside(backup);
    try {
      if (!CollectionEngine.isBackup(from)) {
        throw new CollectionStateException(CollectionStateException.NOT_A_BACKUP,
            from + (Files.isDirectory(from) ? " holds no complete collection backup"
                : " is not a directory") + "; pass a directory BackupCollection wrote");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read backup " + backup + ": " + e.getMessage(), e);
    }
    synchronized (this) {
      if (taken(id)) {
        throw new CollectionAlreadyExistsException(Collection.nameOf(id));
      }
      restoring.add(id);
    }
    Path staging = root.resolve(RESTORING_PREFIX + id + "-" + System.nanoTime());
    Path dir = root.resolve(id);
    try {
      try {
        CollectionEngine.restore(from, staging, options).close();
        Files.move(staging, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        deleteQuietly(staging);
        throw new UncheckedIOException("restore of " + Collection.nameOf(id) + " from " + from
            + " failed: " + e.getMessage(), e);
      } catch (RuntimeException e) {
        deleteQuietly(staging);
        throw e;
      }
      try {
        org.apache.lucene.util.IOUtils.fsync(root, true); // the rename survives a crash
      } catch (IOException e) {
        LOG.warn("cannot sync {} after restoring {}: {}", root, id, e.getMessage());
      }
      try {
        CollectionEngine store = CollectionEngine.open(dir, options);
        Collection c = new Collection(id, store);
        collections.put(id, c);
        LOG.info("restored {} from {}: {} vectors", c.name(), from, store.liveCount());
        return c;
      } catch (IOException e) {
        // Copied and checked, yet it does not open: held aside like at start-up.
        failed.put(id, e);
        throw new UncheckedIOException("restored " + Collection.nameOf(id) + " but cannot open"
            + " it: " + e.getMessage(), e);
      }
    } finally {
      synchronized (this) {
        restoring.remove(id);
      }
    }
  }

  /** {@code dir}, with its links resolved, if it is absolute and outside the data directory. */
  private Path checkOutside(Path dir) {
    if (!dir.isAbsolute()) {
      throw new InvalidFieldException("directory", InvalidFieldException.INVALID_VALUE,
          "directory must be an absolute path on the server, got '" + dir + "'");
    }
    Path d = BackupLocations.realPath(dir);
    if (d.startsWith(BackupLocations.realPath(root.getParent()))) {
      throw new InvalidFieldException("directory", InvalidFieldException.INVALID_VALUE,
          "directory " + d + " is inside the server's data directory; use one outside it");
    }
    return d;
  }

  /** Removes the copies of restores a crash interrupted. */
  private void deleteUnfinishedRestores() throws IOException {
    try (var s = Files.list(root)) {
      for (Path p : s.filter(p -> p.getFileName().toString().startsWith(RESTORING_PREFIX))
          .toList()) {
        LOG.warn("removing {}, left by an unfinished restore", p);
        deleteTree(p);
      }
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      deleteTree(p);
    } catch (IOException e) {
      LOG.warn("cannot remove {}: {}", p, e.getMessage());
    }
  }

  /** The id rule, for messages. */
  public static String idRule() {
    return "use 1 to 63 lower-case letters, digits and hyphens, starting with a letter and not"
        + " ending with a hyphen, e.g. 'my-vectors'";
  }

  /**
   * @throws CollectionNotFoundException if there is no collection {@code id}
   * @throws UncheckedIOException wrapping the {@code CorruptIndexException} of a collection that
   *     failed to open (DATA_LOSS)
   */
  public Collection get(String id) {
    Collection c = collections.get(id);
    if (c == null) {
      IOException why = failed.get(id);
      if (why != null) {
        throw new UncheckedIOException("collection " + Collection.nameOf(id)
            + " is unavailable: " + why.getMessage(), why);
      }
      throw new CollectionNotFoundException(Collection.nameOf(id));
    }
    return c;
  }

  /** Up to {@code limit} collections with ids after {@code afterId} (null: from the first). */
  public List<Collection> list(String afterId, int limit) {
    List<Collection> out = new ArrayList<>(Math.min(limit, 64));
    var view = afterId == null ? collections.values() : collections.tailMap(afterId, false).values();
    for (Collection c : view) {
      if (out.size() == limit) {
        break;
      }
      out.add(c);
    }
    return out;
  }

  /** A collection, or one that failed to open and why: what a listing shows. */
  public record Listed(String id, Collection collection, IOException failure) {}

  /**
   * Up to {@code limit} collections with ids after {@code afterId} (null: from the first), in id
   * order, the ones that failed to open among them.
   */
  public List<Listed> listWithFailures(String afterId, int limit) {
    java.util.TreeMap<String, Listed> all = new java.util.TreeMap<>();
    var open = afterId == null ? collections : collections.tailMap(afterId, false);
    for (Collection c : open.values()) {
      if (all.size() == limit) {
        break;
      }
      all.put(c.id(), new Listed(c.id(), c, null));
    }
    failed.forEach((id, why) -> {
      if (afterId == null || id.compareTo(afterId) > 0) {
        all.put(id, new Listed(id, null, why));
      }
    });
    return new ArrayList<>(all.values()).subList(0, Math.min(limit, all.size()));
  }

  /** Whether a collection, or one that failed to open, sorts after {@code id} (page tokens). */
  public boolean hasAfter(String id) {
    return collections.higherKey(id) != null
        || failed.keySet().stream().anyMatch(f -> f.compareTo(id) > 0);
  }

  /**
   * Deletes a collection and its directory; calls still holding it answer NOT_FOUND from then
   * on. A collection that failed to open can be deleted too.
   *
   * @throws CollectionNotFoundException if there is no collection {@code id}
   */
  public void delete(String id) {
    Collection c;
    synchronized (this) {
      c = collections.remove(id);
      if (c == null && failed.remove(id) == null) {
        throw new CollectionNotFoundException(Collection.nameOf(id));
      }
    }
    try {
      if (c != null) {
        c.markDeleted();
        c.engine().destroy();
      } else {
        Path gone = root.resolve(".deleted-" + id + "-" + System.nanoTime());
        Files.move(root.resolve(id), gone, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        deleteTree(gone);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("deleted " + id + " but could not remove its files: "
          + e.getMessage(), e);
    }
  }

  public int size() {
    return collections.size();
  }

  /** Flushes and closes every collection (and removes a temporary data directory). */
  @Override
  public void close() {
    for (Collection c : collections.values()) {
      try {
        c.engine().close();
      } catch (IOException | RuntimeException e) {
        LOG.warn("closing {} failed: {}", c.name(), e.getMessage());
      }
    }
    try {
      dataDirLock.close();
    } catch (IOException e) {
      LOG.warn("cannot release the lock of {}: {}", root.getParent(), e.getMessage());
    }
    if (ephemeral) {
      try {
        deleteTree(root.getParent());
      } catch (IOException e) {
        LOG.warn("cannot remove temporary data directory {}", root.getParent());
      }
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    }
  }
}
