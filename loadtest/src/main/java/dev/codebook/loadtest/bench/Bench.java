package dev.codebook.loadtest.bench;

import dev.codebook.index.search.BatchSearch;
import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.VectorIndex;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.train.KMeans;
import dev.codebook.index.vector.AnnDataset;
import dev.codebook.index.vector.FloatMatrix;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The in-process benchmark: builds an index from a dataset's {@code train} vectors, searches its
 * {@code test} queries under each search setting and thread count, and reports recall against
 * the file's exact {@code neighbors} with throughput, in the JSON-lines schema shared with {@code
 * ../shared/peers/}.
 *
 * <p>Throughput is timed by {@link PassTimer}, the same way {@code
 * tools/faiss_bench/faiss_spec_bench.cpp} times FAISS: a first pass (its answers give the
 * recall), untimed passes for the warm-up seconds, then timed passes until at least {@code
 * minPasses} and {@code minSeconds}; {@code qps} and {@code qps_1q} are the median pass, with the
 * lowest and highest in {@code qps_min}/{@code qps_max} and {@code qps_1q_min}/{@code
 * qps_1q_max}, and queries per second of process CPU time over the timed passes in {@code
 * qps_cpu} and {@code qps_1q_cpu}. {@code qps} searches the whole query set in one batched call
 * (as FAISS's {@code search} does), {@code qps_1q} makes one call per query from {@code threads}
 * concurrent callers (as a server does).
 */
public final class Bench {

  /** Untimed searching before each mode of each setting is timed, by default. */
  public static final double DEFAULT_WARMUP_SECONDS = 1.0;

  /** Timed passes at least, by default. */
  public static final int DEFAULT_MIN_PASSES = 5;

  /**
   * What to run.
   *
   * @param spec index factory string
   * @param searches search settings to sweep
   * @param threads thread counts to measure each setting with
   * @param k results per query (at least 10, for recall@10)
   * @param minSeconds minimum measured time per setting and mode
   * @param warmupSeconds untimed searching before each setting and mode is timed
   * @param minPasses minimum timed passes per setting and mode
   * @param singleQuery also measure one query per call
   * @param buildThreads training and add threads
   * @param seed training seed
   * @param maxTrain quantizers train on at most this many rows, a seeded sample (all are added)
   */
  public record Config(
      IndexSpec spec, List<SearchParams> searches, List<Integer> threads, int k,
      double minSeconds, double warmupSeconds, int minPasses, boolean singleQuery,
      int buildThreads, long seed, int maxTrain, KMeans.Init init) {
    public Config {
      if (warmupSeconds < 0 || minSeconds < 0) {
        throw new IllegalArgumentException("warm-up and min-time must not be negative");
      }
      if (minPasses < 1) {
        throw new IllegalArgumentException("min-passes must be at least 1, got " + minPasses);
      }
      if (k < 10) {
        throw new IllegalArgumentException("k must be at least 10 to report recall@10, got " + k);
      }
      if (maxTrain <= 0) {
        throw new IllegalArgumentException("max-train must be positive, got " + maxTrain);
      }
      if (searches.isEmpty()) {
        searches = List.of(SearchParams.DEFAULTS);
      }
      for (int t : threads) {
        if (t <= 0) {
          throw new IllegalArgumentException("threads must be positive, got " + t);
        }
      }
    }
  }

  private final Consumer<String> progress;

  public Bench(Consumer<String> progress) {
    this.progress = progress;
  }

  /** Builds the index and runs every setting; one result map (a JSON line) per setting. */
  public List<Map<String, Object>> run(AnnDataset data, String datasetName, Config config) {
    if (data.neighbors() == null) {
      throw new IllegalArgumentException(
          data.source() + ": no 'neighbors' dataset, so recall cannot be measured");
    }
    FloatMatrix train = data.train();
    FloatMatrix sample = sample(train, config.maxTrain(), config.seed());
    progress.accept(String.format("training %s on %,d of %,d x %d (%d threads)", config.spec(),
        sample.rows(), train.rows(), train.dim(), config.buildThreads()));
    long t0 = System.nanoTime();
    VectorIndex index = IndexFactory.create(
        config.spec(), train.dim(), data.similarity(), sample,
        new IndexFactory.BuildOptions(config.seed(), config.buildThreads(), progress)
            .withInit(config.init()));
    double trainS = seconds(t0);
    t0 = System.nanoTime();
    index.add(train);
    double addS = seconds(t0);
    progress.accept(String.format("built: train %.2f s, add %.2f s", trainS, addS));

    List<Map<String, Object>> lines = new ArrayList<>();
    for (SearchParams params : config.searches()) {
      for (int threads : config.threads()) {
        lines.add(measure(index, data, datasetName, config, params, threads, trainS, addS));
      }
    }
    return lines;
  }

  private Map<String, Object> measure(
      VectorIndex index, AnnDataset data, String datasetName, Config config, SearchParams params,
      int threads, double trainS, double addS) {
    FloatMatrix queries = data.test();
    int nq = queries.rows();
    int k = config.k();

    // The first pass's results give the recall (searches are deterministic); then the warm-up
    // lets C2 compile the kernels before the clock starts: one pass of 1,000 queries takes
    // milliseconds, so the first setting of a sweep would otherwise be timed on the
    // interpreter's and C1's code.
    PassTimer timer =
        new PassTimer(config.warmupSeconds(), config.minSeconds(), config.minPasses());
    SearchResults results = BatchSearch.search(index, queries, k, params, threads);
    PassTimer.Stats batched =
        timer.time(() -> BatchSearch.search(index, queries, k, params, threads), nq);
    double qps = batched.median();

    Map<String, Object> line = new LinkedHashMap<>();
    line.put("system", "codebook");
    line.put("index", index.spec().toString());
    line.put("params", params.toString());
    line.put("bytes_per_vector", index.bytesPerVector());
    line.put("train_s", round(trainS, 3));
    line.put("add_s", round(addS, 3));
    line.put("recall@1", round(Recall.at(results, data.neighbors(), 1), 4));
    line.put("recall@10", round(Recall.at(results, data.neighbors(), 10), 4));
    line.put("qps", round(qps, 1));
    line.put("threads", threads);
    PassTimer.Stats one = null;
    if (config.singleQuery()) {
      SearchResults single = new SearchResults(queries.rows(), k);
      one = singleQueryQps(index, queries, k, params, threads, timer, single);
      line.put("qps_1q", round(one.median(), 1));
      // A lone query may take another path (the coarse pre-selection over thousands of lists),
      // so its answers are scored too.
      line.put("recall@10_1q", round(Recall.at(single, data.neighbors(), 10), 4));
    }
    putSpread(line, batched, one, config);
    if (k >= 100 && data.neighbors().cols() >= 10) {
      line.put("recall_10@100", round(Recall.rAtK(results, data.neighbors(), 10), 4));
    }
    line.put("dataset", datasetName);
    line.put("n", index.size());
    line.put("d", index.dimension());
    line.put("metric", data.similarity().shortName());
    line.put("nq", nq);
    line.put("k", k);
    line.put("build_threads", config.buildThreads());
    line.put("train_rows", Math.min(config.maxTrain(), data.train().rows()));
    line.put("kmeans_init", config.init() == KMeans.Init.RANDOM ? "random" : "kmeans++");
    line.put("kernels", VectorKernels.support().name());
    progress.accept(String.format("%s %s threads=%d: recall@10 %.4f, %,.0f QPS batched%s",
        index.spec(), params, threads, (Double) line.get("recall@10"), qps,
        line.containsKey("qps_1q") ? String.format(", %,.0f QPS one per call", (Double) line.get("qps_1q")) : ""));
    return line;
  }

  /**
   * The timing fields beside {@code qps} and {@code qps_1q}: the lowest and highest pass, the
   * number of passes, and the rules they were timed by ({@code one} is null without {@code
   * qps_1q}).
   */
  static void putSpread(
      Map<String, Object> line, PassTimer.Stats batched, PassTimer.Stats one, Config config) {
    line.put("qps_min", round(batched.min(), 1));
    line.put("qps_max", round(batched.max(), 1));
    line.put("passes", batched.passes());
    putCpu(line, "qps_cpu", batched.cpuQps());
    if (one != null) {
      line.put("qps_1q_min", round(one.min(), 1));
      line.put("qps_1q_max", round(one.max(), 1));
      line.put("passes_1q", one.passes());
      putCpu(line, "qps_1q_cpu", one.cpuQps());
    }
    line.put("warmup_s", config.warmupSeconds());
    line.put("min_time_s", config.minSeconds());
    line.put("min_passes", config.minPasses());
    line.put("timing", "jvm");
  }

  private static void putCpu(Map<String, Object> line, String key, double cpuQps) {
    if (!Double.isNaN(cpuQps)) {
      line.put(key, round(cpuQps, 1));
    }
  }

  /**
   * {@code threads} callers each searching one query per call, as server requests would; the
   * first pass's answers go to {@code answers}.
   */
  private static PassTimer.Stats singleQueryQps(
      VectorIndex index, FloatMatrix queries, int k, SearchParams params, int threads,
      PassTimer timer, SearchResults answers) {
    int nq = queries.rows();
    FloatMatrix[] one = new FloatMatrix[nq];
    for (int q = 0; q < nq; q++) {
      one[q] = new FloatMatrix(1, queries.dim(), queries.row(q));
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      runSingles(index, one, k, params, threads, pool, answers);
      return timer.time(() -> runSingles(index, one, k, params, threads, pool, null), nq);
    } finally {
      pool.shutdownNow();
    }
  }

  /** One pass over the queries; each query's ids go to {@code answers} unless it is null. */
  private static void runSingles(
      VectorIndex index, FloatMatrix[] one, int k, SearchParams params, int threads,
      ExecutorService pool, SearchResults answers) {
    AtomicInteger next = new AtomicInteger();
    List<Future<?>> fs = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      fs.add(pool.submit(() -> {
        int q;
        while ((q = next.getAndIncrement()) < one.length) {
          SearchResults r = BatchSearch.search(index, one[q], k, params, 1);
          if (answers != null) {
            System.arraycopy(r.ids(), 0, answers.ids(), q * k, k);
          }
        }
      }));
    }
    for (Future<?> f : fs) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (java.util.concurrent.ExecutionException e) {
        throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
      }
    }
  }

  /** At most {@code max} rows of {@code m}, drawn without replacement and kept in row order. */
  static FloatMatrix sample(FloatMatrix m, int max, long seed) {
    if (m.rows() <= max) {
      return m;
    }
    int[] rows = new java.util.Random(seed).ints(0, m.rows()).distinct().limit(max).sorted()
        .toArray();
    FloatMatrix out = FloatMatrix.allocate(max, m.dim());
    for (int i = 0; i < max; i++) {
      System.arraycopy(m.data(), m.offset(rows[i]), out.data(), i * m.dim(), m.dim());
    }
    return out;
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  static double round(double v, int digits) {
    double s = Math.pow(10, digits);
    return Math.round(v * s) / s;
  }
}
