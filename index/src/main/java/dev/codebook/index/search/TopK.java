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

  private final int k;
  private final float[] scores;
  private final int[] ids;
  private int size;

  public TopK(int k) {
    if (k <= 0) {
      throw new IllegalArgumentException("k must be positive, got " + k);
    }
    this.k = k;
    this.scores = new float[k];
    this.ids = new int[k];
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
    return size == k ? scores[0] : Float.NEGATIVE_INFINITY;
  }

  /** Offers a candidate; returns whether it was kept. */
  public boolean offer(int id, float score) {
    if (size < k) {
      int i = size++;
      // sift up: move worse parents down
      while (i > 0) {
        int parent = (i - 1) >>> 1;
        if (!worse(score, id, scores[parent], ids[parent])) {
          break;
        }
        scores[i] = scores[parent];
        ids[i] = ids[parent];
        i = parent;
      }
      scores[i] = score;
      ids[i] = id;
      return true;
    }
    if (!worse(scores[0], ids[0], score, id)) {
      return false;
    }
    siftDownFromRoot(id, score);
    return true;
  }

  /** Whether (s1, id1) ranks below (s2, id2). NaN scores never enter: callers reject NaN input. */
  private static boolean worse(float s1, int id1, float s2, int id2) {
    return s1 < s2 || (s1 == s2 && id1 > id2);
  }

  private void siftDownFromRoot(int id, float score) {
    int i = 0;
    int half = size >>> 1;
    while (i < half) {
      int child = 2 * i + 1;
      int right = child + 1;
      if (right < size && worse(scores[right], ids[right], scores[child], ids[child])) {
        child = right;
      }
      if (!worse(scores[child], ids[child], score, id)) {
        break;
      }
      scores[i] = scores[child];
      ids[i] = ids[child];
      i = child;
    }
    scores[i] = score;
    ids[i] = id;
  }

  /**
   * Empties the heap into {@code outIds}/{@code outScores} best first, starting at {@code offset};
   * returns the number written. Slots past it (when fewer than k were offered) are left alone.
   */
  public int drainBestFirst(int[] outIds, float[] outScores, int offset) {
    int n = size;
    for (int pos = n - 1; pos >= 0; pos--) {
      outIds[offset + pos] = ids[0];
      if (outScores != null) {
        outScores[offset + pos] = scores[0];
      }
      size--;
      if (size > 0) {
        int lastId = ids[size];
        float lastScore = scores[size];
        siftDownFromRoot(lastId, lastScore);
      }
    }
    return n;
  }
}
