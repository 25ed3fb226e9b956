package dev.codebook.server.collection;

import dev.codebook.index.SearchParams;
import dev.codebook.index.vector.FloatMatrix;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Warms a server's collections up before it says it is ready: searches of random queries, one
 * at a time and in batches, at the default and at a deeper probe, so that the classes are loaded
 * and the hot loops compiled before the first real query arrives instead of during it.
 * Read-only: nothing is written, and an empty collection is skipped.
 */
public final class Warmup {

  /** Queries a merged batch holds: the server's default search batch. */
  private static final int BATCH = 16;

  private Warmup() {}

  /** What a warm-up did. */
  public record Result(int collections, long searches, long millis) {}

  /**
   * Searches every collection of {@code registry} until about {@code budget} has passed or each
   * has had its share of rounds.
   */
  public static Result run(CollectionRegistry registry, Duration budget) {
    long start = System.nanoTime();
    long deadline = start + budget.toNanos();
    List<Collection> all = new ArrayList<>();
    for (Collection c : registry.list(null, Integer.MAX_VALUE)) {
      if (c.info().vectorCount() > 0) {
        all.add(c);
      }
    }
    long searches = 0;
    SplittableRandom rnd = new SplittableRandom(42);
    // Round-robin so that every collection gets warmed even when the budget runs out early.
    for (int round = 0; round < 400 && !all.isEmpty() && System.nanoTime() < deadline; round++) {
      for (Collection c : all) {
        try {
          searches += searchOnce(c, rnd, round);
        } catch (RuntimeException e) {
          // A collection deleted meanwhile, or one that cannot search yet: nothing to warm.
        }
      }
    }
    return new Result(all.size(), searches, (System.nanoTime() - start) / 1_000_000);
  }

  private static int searchOnce(Collection c, SplittableRandom rnd, int round) {
    int rows = round % 8 == 7 ? BATCH : 1;
    FloatMatrix q = new FloatMatrix(rows, c.dimension(), gaussian(rnd, rows * c.dimension()));
    int nlist = c.spec().hasIvf() ? c.spec().nlist() : 1;
    SearchParams params = round % 2 == 0 ? SearchParams.DEFAULTS
        : new SearchParams(Math.min(nlist, 16), c.spec().refineFlat() ? 5 : 1);
    c.search(q, 10, params, false, false, () -> false);
    return rows;
  }

  private static float[] gaussian(SplittableRandom rnd, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      // Sum of uniforms: close enough to normal for a direction, and never all zeros.
      v[i] = (float) (rnd.nextDouble() + rnd.nextDouble() + rnd.nextDouble() - 1.5);
    }
    return v;
  }
}
