package dev.codebook.cli;

import dev.codebook.client.CodebookClient;
import dev.codebook.client.Filters;
import dev.codebook.client.SearchHit;
import dev.codebook.client.SearchOptions;
import dev.codebook.index.vector.AnnDataset;
import dev.codebook.index.vector.VectorFiles;
import dev.codebook.loadtest.cli.CollectionOption;
import dev.codebook.loadtest.cli.TopKOption;
import dev.codebook.loadtest.load.RowIds;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code codebook search}: query a collection with a vector or a dataset's test queries. */
@Command(name = "search", mixinStandardHelpOptions = true,
    header = "Search a collection; print the ids and scores found.",
    description = "Searches a collection and prints the ids and scores found. The query is"
        + " --vector, one row of a dataset's test queries (--data FILE.hdf5 --query-row N), or its"
        + " first N queries (--queries N), which also prints recall@10 against the file's"
        + " neighbors: the ids must then be --id-prefix + row number, as `codebook ingest` names"
        + " them.")
public final class SearchCommand implements Callable<Integer> {

  /** Queries per request with --queries, well under the server's limits. */
  static final int QUERIES_PER_REQUEST = 100;

  @Mixin ClientOptions client;

  @Mixin CollectionOption collection;

  @Option(names = "--vector", paramLabel = "X,Y,...", split = ",", description = "The query vector.")
  float[] vector;

  @Option(names = "--data", paramLabel = "FILE.hdf5", description = "ann-benchmarks file with test queries.")
  Path data;

  @Option(names = "--query-row", paramLabel = "N", description = "With --data: the test row to search.")
  Integer queryRow;

  @Option(names = "--queries", paramLabel = "N",
      description = "With --data: search the first N test rows and measure recall@10.")
  Integer queries;

  @Option(names = "--id-prefix", paramLabel = "P", defaultValue = "",
      description = "With --queries: the prefix ids were ingested with (default: none).")
  String idPrefix;

  @Mixin TopKOption topK;

  @Option(names = "--nprobe", paramLabel = "N", description = "Inverted lists to probe.")
  Integer nprobe;

  @Option(names = "--rerank", paramLabel = "F", description = "Re-rank factor (RFlat).")
  Integer rerank;

  @Option(names = "--filter", paramLabel = "EXPR",
      description = "Only vectors whose attributes match, e.g. 'lang = en AND year >= 2020'"
          + " (operators = != < <= > >=, IN (..), CONTAINS, EXISTS, AND, OR, NOT, parentheses).")
  String filter;

  @Option(names = "--attributes", description = "Print each hit's attributes.")
  boolean attributes;

  @Override
  public Integer call() throws IOException {
    int modes = (vector != null ? 1 : 0) + (queryRow != null ? 1 : 0) + (queries != null ? 1 : 0);
    if (modes != 1) {
      throw new IllegalArgumentException(
          "give exactly one of --vector X,Y,..., --data FILE --query-row N, --data FILE --queries N");
    }
    if ((queryRow != null || queries != null) && data == null) {
      throw new IllegalArgumentException("--query-row and --queries need --data FILE.hdf5");
    }
    if (vector != null && data != null) {
      throw new IllegalArgumentException("--vector and --data exclude each other");
    }
    if (nprobe != null && nprobe <= 0) {
      throw new IllegalArgumentException("--nprobe must be positive, got " + nprobe);
    }
    if (rerank != null && rerank <= 0) {
      throw new IllegalArgumentException("--rerank must be positive, got " + rerank);
    }
    int k = topK.k();
    SearchOptions options = SearchOptions.topK(k).withNprobe(nprobe).withRerank(rerank)
        .withAttributes(attributes).withFilter(filter == null ? null : Filters.parse(filter));

    float[][] q;
    int[] rows;
    AnnDataset dataset = null;
    if (vector != null) {
      q = new float[][] {vector};
      rows = new int[] {0};
    } else {
      dataset = VectorFiles.readDataset(data);
      int n = dataset.test().rows();
      if (queryRow != null) {
        if (queryRow < 0 || queryRow >= n) {
          throw new IllegalArgumentException("--query-row " + queryRow + " is out of range: " + data
              + " has " + n + " test queries");
        }
        rows = new int[] {queryRow};
      } else {
        if (queries <= 0) {
          throw new IllegalArgumentException("--queries must be positive, got " + queries);
        }
        rows = new int[Math.min(queries, n)];
        for (int i = 0; i < rows.length; i++) {
          rows[i] = i;
        }
      }
      q = new float[rows.length][];
      for (int i = 0; i < rows.length; i++) {
        q[i] = dataset.test().row(rows[i]);
      }
    }

    List<List<SearchHit>> results = new ArrayList<>(q.length);
    long t0 = System.nanoTime();
    try (CodebookClient c = client.connect()) {
      for (int from = 0; from < q.length; from += QUERIES_PER_REQUEST) {
        int to = Math.min(q.length, from + QUERIES_PER_REQUEST);
        results.addAll(c.search(collection.collection(), java.util.Arrays.copyOfRange(q, from, to), options));
      }
    }
    double ms = (System.nanoTime() - t0) / 1e6;
    // The file's neighbours are unfiltered: no recall against them with a filter.
    Double recall = queries != null && dataset != null && dataset.hasGroundTruth() && filter == null
        ? recallAt10(results, dataset, rows) : null;

    if (client.json) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("collection", "collections/" + ClientOptions.id(collection.collection()));
      out.put("k", k);
      List<Map<String, Object>> qs = new ArrayList<>();
      for (int i = 0; i < results.size(); i++) {
        Map<String, Object> one = new LinkedHashMap<>();
        one.put("row", rows[i]);
        List<Map<String, Object>> hits = new ArrayList<>();
        for (SearchHit h : results.get(i)) {
          Map<String, Object> hit = new LinkedHashMap<>();
          hit.put("id", h.id());
          hit.put("score", h.score());
          if (attributes) {
            hit.put("attributes", h.attributes());
          }
          hits.add(hit);
        }
        one.put("results", hits);
        qs.add(one);
      }
      out.put("queries", qs);
      if (recall != null) {
        out.put("recall@10", recall);
      }
      out.put("elapsed_ms", Math.round(ms * 1000) / 1000.0);
      client.printJson(out);
    } else {
      int shown = Math.min(results.size(), queries != null ? 3 : results.size());
      for (int i = 0; i < shown; i++) {
        System.out.println(vector != null ? "query:" : "query row " + rows[i] + ":");
        int rank = 1;
        for (SearchHit h : results.get(i)) {
          System.out.printf("  %3d. %-40s %.6f%s%n", rank++, h.id(), h.score(),
              attributes ? "  " + h.attributes() : "");
        }
      }
      if (shown < results.size()) {
        System.out.printf("... %,d more queries%n", results.size() - shown);
      }
      if (queries != null) {
        System.out.printf("%,d queries in %.1f ms%s%n", results.size(), ms,
            recall != null ? String.format(", recall@10 %.4f", recall)
                : filter != null ? " (no recall with --filter: the file's neighbours are unfiltered)"
                : " (no ground truth in " + data + ")");
      }
    }
    return 0;
  }

  /**
   * Mean over queries of |top-10 returned ∩ true top-10| / 10, reading each id back as a row of
   * the file with {@link RowIds} ({@code --id-prefix} + row, or the sample's names); other ids
   * count as misses. When none of the ids is a row, no recall can be measured: an error that
   * says how to name them; when some are not, a warning.
   */
  private double recallAt10(List<List<SearchHit>> results, AnnDataset dataset, int[] rows)
      throws IOException {
    int r = Math.min(10, dataset.neighbors().cols());
    RowIds ids = RowIds.forData(data, idPrefix);
    long hits = 0, rowIds = 0, others = 0;
    String other = null;
    for (int i = 0; i < results.size(); i++) {
      Set<Integer> truth = new HashSet<>();
      for (int j = 0; j < r; j++) {
        truth.add(dataset.neighbors().get(rows[i], j));
      }
      List<SearchHit> got = results.get(i);
      for (int j = 0; j < Math.min(r, got.size()); j++) {
        int row = ids.row(got.get(j).id());
        if (row < 0) {
          others++;
          other = other == null ? got.get(j).id() : other;
        } else {
          rowIds++;
          if (truth.contains(row)) {
            hits++;
          }
        }
      }
    }
    if (others > 0 && rowIds == 0) {
      throw new IllegalArgumentException("cannot measure recall@10: "
          + ids.noRowsExplanation(data, others, other));
    }
    if (others > 0) {
      System.err.printf(java.util.Locale.ROOT, "codebook: warning: %,d of the %,d ids returned are"
          + " not rows of %s (e.g. '%s') and count as misses%n", others, others + rowIds, data,
          other);
    }
    return hits / ((double) results.size() * r);
  }
}
