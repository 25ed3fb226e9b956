package dev.codebook.loadtest.load;

import dev.codebook.api.v1.SearchRequest;
import dev.codebook.client.CodebookClient;
import dev.codebook.client.SearchOptions;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.IntMatrix;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The calls a load test sends, built once before it starts so the generator spends its time
 * waiting for the server rather than encoding queries: the file's {@code test} queries in order,
 * {@code batch} per call (the last call wraps round to the first queries), cycled over for as
 * long as the test runs, all with the same search options.
 *
 * <p>A plan holds no results: each level scores its own answers in a {@link LevelRecall} of its
 * own ({@link #newRecall}), so that a level's recall is never another level's, or the
 * warm-up's.
 */
public final class QueryPlan {

  private final SearchRequest[] requests;
  private final int[][] rows;
  private final int batch;
  private final int queries;
  private final AtomicLong next = new AtomicLong();
  private final IntMatrix truth;
  private final RowIds ids;

  /**
   * @param truth the exact neighbours of each test row, or null (no recall)
   */
  public QueryPlan(String collection, FloatMatrix test, int batch, SearchOptions options,
      IntMatrix truth, RowIds ids) {
    if (batch <= 0) {
      throw new IllegalArgumentException("--batch must be positive, got " + batch);
    }
    int nq = test.rows();
    if (nq == 0) {
      throw new IllegalArgumentException("no test queries to send");
    }
    if (truth != null && truth.rows() < nq) {
      throw new IllegalArgumentException("ground truth has " + truth.rows() + " rows for " + nq
          + " test queries");
    }
    this.batch = batch;
    this.queries = nq;
    int calls = (nq + batch - 1) / batch;
    this.requests = new SearchRequest[calls];
    this.rows = new int[calls][];
    for (int c = 0; c < calls; c++) {
      float[][] q = new float[batch][];
      rows[c] = new int[batch];
      for (int i = 0; i < batch; i++) {
        int row = (c * batch + i) % nq;
        rows[c][i] = row;
        q[i] = test.row(row);
      }
      requests[c] = CodebookClient.searchRequest(collection, q, options);
    }
    this.truth = truth;
    this.ids = ids;
  }

  /** Queries per call. */
  public int batch() {
    return batch;
  }

  /** Distinct calls before the plan repeats. */
  public int calls() {
    return requests.length;
  }

  /** The number of the next call to send (thread-safe). */
  public int nextCall() {
    return (int) Math.floorMod(next.getAndIncrement(), (long) requests.length);
  }

  public SearchRequest request(int call) {
    return requests[call];
  }

  /** The test rows of {@code call}'s queries, in the order of its results. */
  int[] rows(int call) {
    return rows[call];
  }

  /** A fresh, empty recall for one level's answers to these calls. */
  public LevelRecall newRecall() {
    return new LevelRecall(truth, ids, queries);
  }
}
