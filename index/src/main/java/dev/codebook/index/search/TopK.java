package dev.codebook.index.search;

/**
 * A bounded heap of the {@code k} best (id, score) pairs, higher score better, ties to the lower
 * id (the ann-benchmarks ground-truth convention). Primitive arrays, no boxing; {@link #clear()}
 * makes it reusable across queries.
 *
 * <p>The root is the worst retained entry, so {@link #threshold()} is the score a candidate must
 * beat once the heap is full: scanners test against it before calling {@link #offer}.
 */
public final class TopK {

  // Each entry is one long: the score's bits made order-preserving as a signed int in the high
  // half, the complement of the id in the low half (so the lower id ranks higher on a tie). One
  // compare of keys replaces a float compare plus a tie check on every level of a sift.

  private final int k;
  private final long[] keys;
  private int size;

  public TopK(int k) {
    if (k <= 0) {
      throw new IllegalArgumentException("k must be positive, got " + k);
    }
    this.k = k;
    this.keys = new long[k];
  }

  static long key(int id, float score) {
    int bits = Float.floatToRawIntBits(score);
    bits ^= (bits >> 31) & 0x7FFFFFFF; // negative floats: reverse their order
    return ((long) bits << 32) | (~id & 0xFFFFFFFFL);
  }

  static float scoreOf(long key) {
    int bits = (int) (key >> 32);
    return Float.intBitsToFloat(bits ^ ((bits >> 31) & 0x7FFFFFFF));
  }

  static int idOf(long key) {
    return ~(int) key;
  }

  public int k() {
    return k;
  }

  public int size() {
    return size;
  }

  public boolean isFull() {
    return size == k;
  }

  public void clear() {
    size = 0;
  }

  /** Score a candidate must exceed to enter; negative infinity until the heap is full. */
  public float threshold() {
    return size == k ? scoreOf(keys[0]) : Float.NEGATIVE_INFINITY;
  }

  /** Offers a candidate; returns whether it was kept. Callers reject NaN scores. */
  public boolean offer(int id, float score) {
    long key = key(id, score);
    if (size < k) {
      int i = size++;
      // sift up: move worse parents down
      while (i > 0) {
        int parent = (i - 1) >>> 1;
        if (keys[parent] <= key) {
          break;
        }
        keys[i] = keys[parent];
        i = parent;
      }
      keys[i] = key;
      return true;
    }
    if (key <= keys[0]) {
      return false;
    }
    siftDownFromRoot(key);
    return true;
  }

  private void siftDownFromRoot(long key) {
    int i = 0;
    int half = size >>> 1;
    while (i < half) {
      int child = 2 * i + 1;
      int right = child + 1;
      if (right < size && keys[right] < keys[child]) {
        child = right;
      }
      if (keys[child] >= key) {
        break;
      }
      keys[i] = keys[child];
      i = child;
    }
    keys[i] = key;
  }

  /** Copies the ids kept, in no particular order, to {@code out}; returns how many. */
  public int idsUnordered(int[] out) {
    for (int i = 0; i < size; i++) {
      out[i] = idOf(keys[i]);
    }
    return size;
  }

  /**
   * Empties the heap into {@code outIds}/{@code outScores} best first, starting at {@code offset};
   * returns the number written. Slots past it (when fewer than k were offered) are left alone.
   */
  public int drainBestFirst(int[] outIds, float[] outScores, int offset) {
    int n = size;
    for (int pos = n - 1; pos >= 0; pos--) {
      long root = keys[0];
      outIds[offset + pos] = idOf(root);
      if (outScores != null) {
        outScores[offset + pos] = scoreOf(root);
      }
      size--;
      if (size > 0) {
        siftDownFromRoot(keys[size]);
      }
    }
    return n;
  }
}
