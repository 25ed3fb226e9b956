package dev.codebook.server.collection;

import dev.codebook.index.IndexSpec;
import dev.codebook.index.vector.Similarity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Pattern;

/** The collections a server holds, by id, in id order. In memory for now. */
public final class CollectionRegistry {

  /**
   * Collection ids (AIP-122): 1 to 63 characters, lower-case letters, digits and hyphens,
   * starting with a letter and not ending with a hyphen.
   */
  public static final Pattern ID = Pattern.compile("[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?");

  /** Largest dimension a collection accepts. */
  public static final int MAX_DIMENSION = 65_536;

  private final ConcurrentSkipListMap<String, Collection> collections =
      new ConcurrentSkipListMap<>();

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
    Collection c = new Collection(id, dimension, similarity, spec, Instant.now());
    if (collections.putIfAbsent(id, c) != null) {
      throw new CollectionAlreadyExistsException(c.name());
    }
    return c;
  }

  /** The id rule, for messages. */
  public static String idRule() {
    return "use 1 to 63 lower-case letters, digits and hyphens, starting with a letter and not"
        + " ending with a hyphen, e.g. 'my-vectors'";
  }

  /**
   * @throws CollectionNotFoundException if there is no collection {@code id}
   */
  public Collection get(String id) {
    Collection c = collections.get(id);
    if (c == null) {
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

  /** Whether a collection sorts after {@code id} (for page tokens). */
  public boolean hasAfter(String id) {
    return collections.higherKey(id) != null;
  }

  /**
   * Deletes a collection; calls still holding it answer NOT_FOUND from then on.
   *
   * @throws CollectionNotFoundException if there is no collection {@code id}
   */
  public void delete(String id) {
    Collection c = collections.remove(id);
    if (c == null) {
      throw new CollectionNotFoundException(Collection.nameOf(id));
    }
    c.markDeleted();
  }

  public int size() {
    return collections.size();
  }
}
