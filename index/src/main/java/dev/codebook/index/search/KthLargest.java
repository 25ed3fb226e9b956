package dev.codebook.index.search;

/**
 * Tracks a lower bound on the {@code k}-th largest of a stream of floats, for scans that need a
 * bar, not the values. Up to {@value #HEAP_MAX_K}, a min-heap of floats: the bar is exact after
 * every value, at {@code log k} levels a sift. Above, a buffer of {@code 2k}, and when it fills, a
 * selection of its {@code k} largest (linear time) raises the bar to the smallest of them and
 * drops the rest: O(1) amortized a value, which matters when {@code k} is the 100 candidates of a
 * re-ranked search; the bar lags between selections (a small k would let many more values
 * through meanwhile), but it is never above the true k-th largest, so a scan filtering with it
 * keeps every value that matters.
 */
public final class KthLargest {

  /** Largest k kept in a heap rather than a selection buffer. */
  static final int HEAP_MAX_K = 64;

  private final int k;
  private final boolean heap;
  private final float[] buf;
  private int size;
  private int offered;
  private float bar = Float.NEGATIVE_INFINITY;

  public KthLargest(int k) {
    if (k <= 0) {
      throw new IllegalArgumentException("k must be positive, got " + k);
    }
    this.k = k;
    this.heap = k <= HEAP_MAX_K;
    this.buf = new float[heap ? k : 2 * k];
  }

  public int k() {
    return k;
  }

  public void clear() {
    size = 0;
    offered = 0;
    bar = Float.NEGATIVE_INFINITY;
  }

  /** A value at or below the bar cannot be among the k largest; negative infinity until k came. */
  public float bar() {
    return bar;
  }

  /** Whether at least k values were offered (the bar is then a real k-th largest bound). */
  public boolean isFull() {
    return offered >= k;
  }

  /** Offers a value; returns whether the bar rose. */
  public boolean add(float v) {
    if (!(v > bar)) {
      return false;
    }
    offered++;
    if (heap) {
      return addToHeap(v);
    }
    buf[size++] = v;
    if (size == k && bar == Float.NEGATIVE_INFINITY) {
      float min = buf[0];
      for (int i = 1; i < k; i++) {
        min = Math.min(min, buf[i]);
      }
      bar = min;
      return true;
    }
    if (size == buf.length) {
      return select();
    }
    return false;
  }

  /** Min-heap of the k largest, smallest at the root: the bar once full. */
  private boolean addToHeap(float v) {
    if (size < k) {
      int i = size++;
      while (i > 0) {
        int parent = (i - 1) >>> 1;
        if (buf[parent] <= v) {
          break;
        }
        buf[i] = buf[parent];
        i = parent;
      }
      buf[i] = v;
      if (size == k) {
        bar = buf[0];
        return true;
      }
      return false;
    }
    int i = 0;
    int half = k >>> 1;
    while (i < half) {
      int child = 2 * i + 1;
      if (child + 1 < k && buf[child + 1] < buf[child]) {
        child++;
      }
      if (buf[child] >= v) {
        break;
      }
      buf[i] = buf[child];
      i = child;
    }
    buf[i] = v;
    bar = buf[0];
    return true;
  }

  /** The exact k-th largest of the values kept (selects now); negative infinity below k. */
  public float exactBar() {
    if (!heap && size > k) {
      select();
    }
    return bar;
  }

  /** Moves the k largest to the front, sets the bar to the smallest of them, drops the rest. */
  private boolean select() {
    int lo = 0, hi = size - 1, target = k - 1;
    while (lo < hi) {
      // Median of three as pivot, then a Hoare partition into >= pivot | <= pivot (descending).
      int mid = (lo + hi) >>> 1;
      float a = buf[lo], b = buf[mid], c = buf[hi];
      float pivot = a > b ? (b > c ? b : Math.min(a, c)) : (a > c ? a : Math.min(b, c));
      int i = lo, j = hi;
      while (i <= j) {
        while (buf[i] > pivot) {
          i++;
        }
        while (buf[j] < pivot) {
          j--;
        }
        if (i <= j) {
          float t = buf[i];
          buf[i] = buf[j];
          buf[j] = t;
          i++;
          j--;
        }
      }
      if (target <= j) {
        hi = j;
      } else if (target >= i) {
        lo = i;
      } else {
        break; // buf[j+1 .. i-1] all equal the pivot, and target is among them
      }
    }
    float before = bar;
    float min = buf[0];
    for (int i = 1; i < k; i++) {
      min = Math.min(min, buf[i]);
    }
    bar = min;
    size = k;
    return bar > before;
  }
}
