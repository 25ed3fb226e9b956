package dev.codebook.index.collection;

import java.util.HashMap;

/**
 * The truth about which row of an external id is live: {@code id -> (segment number, local
 * ordinal)}, packed in a {@code long}. Deletion bitmaps are derived from it. Not thread-safe:
 * guarded by the collection's write lock (read under its read lock).
 */
final class IdMap {

  /** Returned by {@link #put} and {@link #remove} when the id had no row. */
  static final long NONE = -1;

  private final HashMap<String, Long> locations = new HashMap<>();

  /** A row's location: segment (or buffer) number in the high half, local ordinal in the low. */
  static long pack(long number, int ord) {
    return number << 32 | (ord & 0xFFFFFFFFL);
  }

  static long number(long loc) {
    return loc >>> 32;
  }

  static int ord(long loc) {
    return (int) loc;
  }

  /** Points {@code id} at a row; returns where it pointed before, or {@link #NONE}. */
  long put(String id, long loc) {
    Long old = locations.put(id, loc);
    return old == null ? NONE : old;
  }

  /** Forgets {@code id}; returns where it pointed, or {@link #NONE}. */
  long remove(String id) {
    Long old = locations.remove(id);
    return old == null ? NONE : old;
  }

  /** Where {@code id} points, or {@link #NONE}. */
  long get(String id) {
    Long loc = locations.get(id);
    return loc == null ? NONE : loc;
  }

  boolean contains(String id) {
    return locations.containsKey(id);
  }

  int size() {
    return locations.size();
  }
}
