package dev.codebook.loadtest.load;

import dev.codebook.api.v1.QueryResult;
import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.client.CodebookClient;
import dev.codebook.client.SearchOptions;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.IntMatrix;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The calls a load test sends, built once before it starts so the generator spends its time
 * waiting for the server rather than encoding queries: the file's {@code test} queries in order,
 * {@code batch} per call (the last call wraps round to the first queries), cycled over for as
 * long as the test runs.
 *
 * <p>It also scores recall: the first answer to each query is compared with the file's exact
 * {@code neighbors} (searches are deterministic, so later answers would score the same), ids read
 * back as rows by {@link RowIds}. Recall@r is the mean over the queries answered of |returned
 * top-r ∩ true top-r| / r, as {@code bench} and {@code search --queries} compute it. When no
 * id returned reads as a row (ids ingested with another prefix), recall is not measured (NaN)
 * rather than 0.
 */
public final class QueryPlan {

  private final SearchRequest[] requests;
  private final int[][] rows;
  private final int batch;
  private final AtomicLong next = new AtomicLong();
  private final IntMatrix truth;
  private final RowIds ids;
  private final AtomicIntegerArray scored;
  private final AtomicIntegerArray hits1;
  private final AtomicIntegerArray hits10;
  private final AtomicLong rowIds = new AtomicLong();
  private final AtomicLong otherIds = new AtomicLong();
  private volatile String otherId;

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
    this.scored = new AtomicIntegerArray(nq);
    this.hits1 = new AtomicIntegerArray(nq);
    this.hits10 = new AtomicIntegerArray(nq);
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

  /** Scores the answers to {@code call} against the ground truth, if its queries are new. */
  public void score(int call, SearchResponse response) {
    if (truth == null) {
      return;
    }
    int[] r = rows[call];
    for (int i = 0; i < r.length && i < response.getResultsCount(); i++) {
      int row = r[i];
      if (scored.get(row) != 0 || !scored.compareAndSet(row, 0, 1)) {
        continue;
      }
      QueryResult result = response.getResults(i);
      int n = Math.min(10, Math.min(truth.cols(), result.getNeighborsCount()));
      int r10 = Math.min(10, truth.cols());
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

  /** Test queries answered at least once. */
  public int queriesScored() {
    int n = 0;
    for (int i = 0; i < scored.length(); i++) {
      n += scored.get(i);
    }
    return n;
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

  /** Recall@1 over the queries answered, or NaN without ground truth or answers. */
  public double recallAt1() {
    return mean(hits1, 1);
  }

  /** Recall@10 over the queries answered, or NaN without ground truth or answers. */
  public double recallAt10() {
    return truth == null ? Double.NaN : mean(hits10, Math.min(10, truth.cols()));
  }

  private double mean(AtomicIntegerArray hits, int r) {
    if (truth == null || noIdIsARow()) {
      return Double.NaN;
    }
    long sum = 0;
    int n = 0;
    for (int i = 0; i < scored.length(); i++) {
      if (scored.get(i) != 0) {
        sum += hits.get(i);
        n++;
      }
    }
    return n == 0 ? Double.NaN : sum / ((double) n * r);
  }
}
