package dev.codebook.loadtest.load;

import dev.codebook.api.v1.QueryResult;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.index.vector.IntMatrix;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The recall of one load level, from that level's own calls: each test query is scored once, by
 * the first of its calls in the level's measured phase to complete. An answer is compared with
 * the file's exact {@code neighbors} (ids read back as rows by {@link RowIds}); a call that
 * failed, whatever its status, scores each of its queries as a miss (no hits), so a level that
 * sheds load does not report the recall of only the calls it answered. Recall@r is the mean over
 * the queries scored of |returned top-r ∩ true top-r| / r, as {@code bench} and {@code search
 * --queries} compute it. Searches are deterministic, so later answers to a query would score the
 * same; scoring each query once keeps the generator's work per call small.
 *
 * <p>When no id returned reads as a row (ids ingested with another prefix), recall is not
 * measured (NaN) rather than 0. Thread-safe: answers arrive on many threads.
 */
public final class LevelRecall {

  private static final int UNSCORED = 0;
  private static final int ANSWERED = 1;
  private static final int FAILED = 2;

  private final IntMatrix truth;
  private final RowIds ids;
  private final AtomicIntegerArray state;
  private final AtomicIntegerArray hits1;
  private final AtomicIntegerArray hits10;
  private final AtomicLong rowIds = new AtomicLong();
  private final AtomicLong otherIds = new AtomicLong();
  private volatile String otherId;

  /**
   * @param truth the exact neighbours of each test row, or null (no recall)
   * @param queries test queries
   */
  LevelRecall(IntMatrix truth, RowIds ids, int queries) {
    this.truth = truth;
    this.ids = ids;
    this.state = new AtomicIntegerArray(queries);
    this.hits1 = new AtomicIntegerArray(queries);
    this.hits10 = new AtomicIntegerArray(queries);
  }

  /** Scores the answer to a call for the test rows {@code rows}, those not yet scored. */
  void answered(int[] rows, SearchResponse response) {
    if (truth == null) {
      return;
    }
    int r10 = Math.min(10, truth.cols());
    for (int i = 0; i < rows.length && i < response.getResultsCount(); i++) {
      int row = rows[i];
      if (state.get(row) != UNSCORED || !state.compareAndSet(row, UNSCORED, ANSWERED)) {
        continue;
      }
      QueryResult result = response.getResults(i);
      int n = Math.min(r10, result.getNeighborsCount());
      int h10 = 0;
      for (int j = 0; j < n; j++) {
        int got = ids.row(result.getNeighbors(j).getId());
        if (got < 0) {
          otherIds.incrementAndGet();
          if (otherId == null) {
            otherId = result.getNeighbors(j).getId();
          }
          continue;
        }
        rowIds.incrementAndGet();
        for (int t = 0; t < r10; t++) {
          if (truth.get(row, t) == got) {
            h10++;
            break;
          }
        }
      }
      int h1 = result.getNeighborsCount() > 0
          && ids.row(result.getNeighbors(0).getId()) == truth.get(row, 0) ? 1 : 0;
      hits10.set(row, h10);
      hits1.set(row, h1);
    }
  }

  /** A call for the test rows {@code rows} failed: those not yet scored count as misses. */
  void failed(int[] rows) {
    if (truth == null) {
      return;
    }
    for (int row : rows) {
      state.compareAndSet(row, UNSCORED, FAILED);
    }
  }

  /** Test queries in the recall: answered, or failed and counted as misses. */
  public int queries() {
    return count(ANSWERED) + count(FAILED);
  }

  /** Test queries counted as misses because their first call in the level failed. */
  public int failedQueries() {
    return count(FAILED);
  }

  /** Ids scored that are not rows of the file. */
  public long otherIds() {
    return otherIds.get();
  }

  /** One of {@link #otherIds()}, or null. */
  public String otherId() {
    return otherId;
  }

  /** Whether ids were scored but none of them is a row of the file: recall cannot be measured. */
  public boolean noIdIsARow() {
    return rowIds.get() == 0 && otherIds.get() > 0;
  }

  /** Recall@1 over the queries scored, or NaN without ground truth or scored queries. */
  public double recallAt1() {
    return mean(hits1, 1);
  }

  /** Recall@10 over the queries scored, or NaN without ground truth or scored queries. */
  public double recallAt10() {
    return truth == null ? Double.NaN : mean(hits10, Math.min(10, truth.cols()));
  }

  private double mean(AtomicIntegerArray hits, int r) {
    if (truth == null || noIdIsARow()) {
      return Double.NaN;
    }
    long sum = 0;
    int n = 0;
    for (int i = 0; i < state.length(); i++) {
      int s = state.get(i);
      if (s != UNSCORED) {
        sum += s == ANSWERED ? hits.get(i) : 0;
        n++;
      }
    }
    return n == 0 ? Double.NaN : sum / ((double) n * r);
  }

  private int count(int s) {
    int n = 0;
    for (int i = 0; i < state.length(); i++) {
      if (state.get(i) == s) {
        n++;
      }
    }
    return n;
  }
}
