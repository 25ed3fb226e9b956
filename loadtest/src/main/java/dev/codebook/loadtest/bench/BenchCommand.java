package dev.codebook.loadtest.bench;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.train.KMeans;
import dev.codebook.index.vector.AnnDataset;
import dev.codebook.index.vector.Similarity;
import dev.codebook.index.vector.VectorFiles;
import dev.codebook.loadtest.cli.Defaults;
import dev.codebook.loadtest.cli.JsonLinesOutOption;
import dev.codebook.loadtest.cli.MetricConverter;
import dev.codebook.loadtest.cli.SeedOption;
import dev.codebook.loadtest.cli.TopKOption;
import dev.codebook.loadtest.report.RecallQpsChart;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code codebook bench}: build an index in-process and measure recall and QPS. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    header = "Build an index in-process and measure its recall and QPS.",
    description = "Builds an index from a dataset's train vectors, searches its test queries and"
        + " prints one JSON line per search setting and thread count (the ../shared/peers"
        + " schema): recall@1, recall@10 against the file's exact neighbors, QPS batched and one"
        + " query per call (each the median of timed passes after a warm-up, with the lowest and"
        + " highest). Progress goes to stderr.")
public final class BenchCommand implements Callable<Integer> {

  /** The bundled sample, relative to the installation ({@code -Dcodebook.home}). */
  public static final String SAMPLE = "samples/debian-minilm-5k.hdf5";

  @Option(names = "--data", paramLabel = "FILE",
      description = "ann-benchmarks HDF5 file (train, test, neighbors). Default: the bundled sample.")
  Path data;

  @Option(names = "--train", paramLabel = "FILE",
      description = "Instead of --data: base vectors (.fvecs, .bvecs, .npy).")
  Path trainFile;

  @Option(names = "--test", paramLabel = "FILE", description = "With --train: query vectors.")
  Path testFile;

  @Option(names = "--truth", paramLabel = "FILE.ivecs",
      description = "With --train: exact neighbours per query. Computed with the Flat index when absent.")
  Path truthFile;

  @Option(names = "--metric", paramLabel = "METRIC", defaultValue = Defaults.METRIC,
      converter = MetricConverter.class,
      description = "With --train: " + MetricConverter.NAMES + " (default: ${DEFAULT-VALUE}, as"
          + " for collections; TEXMEX sets such as SIFT are l2). An HDF5 file names its own.")
  Similarity metric;

  @Option(names = "--index", paramLabel = "SPEC", defaultValue = Defaults.INDEX,
      description = "FAISS-style index spec, e.g. Flat, IVF256,PQ32, IVF1024,PQ48x4fs,RFlat (default: ${DEFAULT-VALUE}).")
  String index;

  @Option(names = "--search", paramLabel = "PARAMS",
      description = "Search setting, repeatable, e.g. --search nprobe=16,rerank=4.")
  List<String> searches = new ArrayList<>();

  @Option(names = "--nprobe", paramLabel = "N", split = ",",
      description = "nprobe values to sweep (crossed with --rerank).")
  List<Integer> nprobes = new ArrayList<>();

  @Option(names = "--rerank", paramLabel = "F", split = ",",
      description = "Re-rank factors to sweep (k*F candidates re-scored exactly with RFlat).")
  List<Integer> reranks = new ArrayList<>();

  @Option(names = "--threads", paramLabel = "N", split = ",", defaultValue = "1",
      description = "Search thread counts to measure (default: ${DEFAULT-VALUE}).")
  List<Integer> threads;

  @Option(names = "--queries", paramLabel = "N", description = "Use only the first N test queries.")
  Integer queries;

  @Mixin TopKOption topK;

  @Option(names = "--min-time", paramLabel = "SECONDS", defaultValue = "1.0",
      description = "Minimum timed seconds per setting and mode, batched and one per call"
          + " (default: ${DEFAULT-VALUE}).")
  double minTime;

  @Option(names = "--warmup", paramLabel = "SECONDS",
      defaultValue = "" + Bench.DEFAULT_WARMUP_SECONDS,
      description = "Untimed passes for this long before each setting and mode is timed"
          + " (default: ${DEFAULT-VALUE}).")
  double warmup;

  @Option(names = "--min-passes", paramLabel = "N", defaultValue = "" + Bench.DEFAULT_MIN_PASSES,
      description = "Timed passes at least, per setting and mode; qps and qps_1q are their"
          + " median, qps_min/qps_max and qps_1q_min/qps_1q_max the lowest and highest"
          + " (default: ${DEFAULT-VALUE}).")
  int minPasses;

  @Option(names = "--no-single", description = "Skip the one-query-per-call measurement (qps_1q).")
  boolean noSingle;

  @Option(names = "--build-threads", paramLabel = "N", description = "Training threads (default: all cores).")
  Integer buildThreads;

  @Mixin SeedOption seed;

  @Option(names = "--max-train", paramLabel = "N", defaultValue = "100000",
      description = "Train quantizers on a seeded sample of at most N train rows, as the peers'"
          + " harness does (default: ${DEFAULT-VALUE}); every row is still added.")
  int maxTrain;

  @Option(names = "--kmeans-init", paramLabel = "INIT", defaultValue = "kmeans++",
      converter = InitConverter.class,
      description = "How the coarse and PQ k-means pick their first centroids: kmeans++ (the"
          + " default) or random (FAISS's way: train as FAISS does to compare recall like for"
          + " like).")
  KMeans.Init kmeansInit;

  static final class InitConverter implements picocli.CommandLine.ITypeConverter<KMeans.Init> {
    @Override
    public KMeans.Init convert(String value) {
      return switch (value) {
        case "kmeans++" -> KMeans.Init.KMEANS_PLUS_PLUS;
        case "random" -> KMeans.Init.RANDOM;
        default -> throw new picocli.CommandLine.TypeConversionException(
            "--kmeans-init must be kmeans++ or random, got '" + value + "'");
      };
    }
  }

  @Mixin JsonLinesOutOption out;

  @Option(names = "--report", paramLabel = "FILE.html",
      description = "Write a recall/QPS chart of this run (and any --compare lines) as HTML.")
  Path report;

  @Option(names = "--compare", paramLabel = "FILE.jsonl",
      description = "Peer results (../shared/peers/results/*.jsonl) to draw beside ours in --report.")
  List<Path> compare = new ArrayList<>();

  @Override
  public Integer call() throws IOException {
    IndexSpec spec = IndexSpec.parse(index);
    List<SearchParams> settings = searchSettings();
    if (queries != null && queries <= 0) {
      throw new IllegalArgumentException("--queries must be positive, got " + queries);
    }
    PrintStream err = System.err;
    AnnDataset dataset;
    Path file;
    if (trainFile != null) {
      if (data != null || testFile == null) {
        throw new IllegalArgumentException("give either --data FILE.hdf5, or --train with --test");
      }
      file = trainFile;
      err.println("[bench] reading " + trainFile + " and " + testFile);
      dataset = VectorFiles.readDataset(trainFile, testFile, truthFile, metric);
    } else {
      file = data != null ? data : defaultSample();
      err.println("[bench] reading " + file);
      dataset = VectorFiles.readDataset(file);
    }
    if (dataset.neighbors() == null) {
      err.println("[bench] no ground truth in the input: computing the exact top-100 with Flat");
      dataset = GroundTruth.withExactNeighbors(dataset, 100);
    }
    spec.validateFor(dataset.train().dim());
    if (queries != null && queries < dataset.test().rows()) {
      dataset = dataset.withQueryLimit(queries);
    }
    Bench.Config config = new Bench.Config(spec, settings, threads, topK.k(), minTime, warmup,
        minPasses, !noSingle,
        buildThreads != null ? buildThreads : Runtime.getRuntime().availableProcessors(), seed.seed(),
        maxTrain, kmeansInit);
    String name = file.getFileName().toString().replaceFirst("\\.(hdf5|h5|fvecs|bvecs|npy)$", "");
    List<Map<String, Object>> lines =
        new Bench(msg -> err.println("[bench] " + msg)).run(dataset, name, config);

    Gson gson = new GsonBuilder().disableHtmlEscaping().create();
    StringBuilder jsonl = new StringBuilder();
    for (Map<String, Object> line : lines) {
      String json = gson.toJson(line);
      System.out.println(json);
      jsonl.append(json).append('\n');
    }
    if (out.out() != null) {
      Files.writeString(out.out(), jsonl, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    }
    if (report != null) {
      RecallQpsChart chart = new RecallQpsChart("Recall@10 vs QPS on " + name);
      chart.addLines(lines);
      for (Path p : compare) {
        chart.addJsonl(p);
      }
      chart.writeHtml(report);
      err.println("[bench] wrote " + report);
    }
    return 0;
  }

  private List<SearchParams> searchSettings() {
    List<SearchParams> out = new ArrayList<>();
    for (String s : searches) {
      out.add(SearchParams.parse(s));
    }
    if (!nprobes.isEmpty() || !reranks.isEmpty()) {
      List<Integer> ps = nprobes.isEmpty() ? List.of(SearchParams.DEFAULT_NPROBE) : nprobes;
      List<Integer> rs = reranks.isEmpty() ? List.of(SearchParams.DEFAULT_RERANK) : reranks;
      for (int r : rs) {
        for (int p : ps) {
          out.add(new SearchParams(p, r));
        }
      }
    }
    return out;
  }

  /** The bundled sample, found from {@code codebook.home} or the working directory. */
  public static Path defaultSample() {
    String home = System.getProperty("codebook.home", ".");
    return Path.of(home).resolve(SAMPLE);
  }
}
