package dev.codebook.loadtest.load;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.codebook.api.v1.Collection;
import dev.codebook.client.CodebookClient;
import dev.codebook.client.CodebookException;
import dev.codebook.client.SearchOptions;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.vector.AnnDataset;
import dev.codebook.index.vector.VectorFiles;
import dev.codebook.loadtest.cli.CollectionOption;
import dev.codebook.loadtest.cli.JsonLinesOutOption;
import dev.codebook.loadtest.cli.ConnectionOptions;
import dev.codebook.loadtest.cli.Defaults;
import dev.codebook.loadtest.cli.TopKOption;
import dev.codebook.loadtest.report.LatencyThroughputChart;
import io.grpc.Status;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code codebook loadtest}: search a running server under load and report latency
 * percentiles, throughput, errors by status code and recall, per load level.
 */
@Command(
    name = "loadtest",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Search a server under load; report latency, QPS and recall.",
    description = "Searches a running server with a dataset's test queries under load and"
        + " reports latency percentiles (HdrHistogram), QPS, errors by gRPC status code and"
        + " recall@1/@10 against the file's neighbors. Closed loop (--concurrency N: N callers"
        + " back to back) or open loop (--rate R: R calls per second on a fixed timetable,"
        + " latency measured from each call's slot, so stalls are not hidden). A list of levels"
        + " (--concurrency 1,2,4,8 or --rate 500,1000) is a sweep: one JSON line per level"
        + " (--out), and --report draws latency against throughput; lists of --nprobe or"
        + " --rerank run the levels once per search setting. Each level's recall is scored from"
        + " its own answers, a failed query counting as a miss. Progress every second on"
        + " stderr. Loopback targets only unless --allow-remote.")
public final class LoadTestCommand implements Callable<Integer> {

  @Mixin ConnectionOptions connection;

  @Option(names = "--data", required = true, paramLabel = "FILE.hdf5",
      description = "ann-benchmarks HDF5 file: test queries, neighbors (and train, for --load).")
  Path data;

  @Mixin CollectionOption collection;

  @Option(names = "--load",
      description = "Create the collection, stream the file's train vectors in and build the index"
          + " (a server job) first.")
  boolean load;

  @Option(names = "--replace", description = "With --load: delete the collection first if it exists.")
  boolean replace;

  @Option(names = "--index", paramLabel = "SPEC", defaultValue = Defaults.INDEX,
      description = "With --load: the index spec, e.g. IVF256,PQ48x4fs (default: ${DEFAULT-VALUE}).")
  String index;

  @Option(names = "--id-prefix", paramLabel = "P", defaultValue = "",
      description = "Ids are P + row number (as `codebook ingest` names them; default: none)."
          + " Without --load, names in <data>.names.txt.gz are read too, as `serve` uses them.")
  String idPrefix;

  @Option(names = "--load-batch", paramLabel = "N", defaultValue = "" + CodebookClient.DEFAULT_BATCH_SIZE,
      description = "With --load: vectors per streamed message (default: ${DEFAULT-VALUE}).")
  int loadBatch;

  @Option(names = "--seed", paramLabel = "N", defaultValue = Defaults.SEED,
      description = "With --load: training seed (default: ${DEFAULT-VALUE}, what the server uses"
          + " when a build names none).")
  long seed;

  @Option(names = "--search", paramLabel = "PARAMS", defaultValue = "",
      description = "Search parameters, e.g. nprobe=16,rerank=4 (default: the server's).")
  String search;

  @Option(names = "--nprobe", paramLabel = "N", split = ",",
      description = "Inverted lists to probe, as `search --nprobe` (overrides --search's); a"
          + " list, e.g. 4,16,64, runs every level once per value.")
  List<Integer> nprobe = new ArrayList<>();

  @Option(names = "--rerank", paramLabel = "F", split = ",",
      description = "Re-rank factor (RFlat), as `search --rerank` (overrides --search's); a"
          + " list runs every level once per value (crossed with --nprobe).")
  List<Integer> rerank = new ArrayList<>();

  @Mixin TopKOption topK;

  @Option(names = "--concurrency", paramLabel = "N", split = ",",
      description = "Closed loop: concurrent callers; a list is a sweep (default: 1).")
  List<Integer> concurrency = new ArrayList<>();

  @Option(names = "--rate", paramLabel = "R", split = ",",
      description = "Open loop: calls per second on a fixed timetable; a list is a sweep.")
  List<Double> rate = new ArrayList<>();

  @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "2",
      description = "Unmeasured warm-up before each level (default: ${DEFAULT-VALUE}).")
  double warmup;

  @Option(names = "--jit-warmup", paramLabel = "SECONDS", defaultValue = "10",
      description = "Warm-up before the first level only (default: ${DEFAULT-VALUE}), as a closed"
          + " loop of " + JIT_WARMUP_CONCURRENCY + " callers: the JIT of this generator and of a"
          + " freshly started server keeps compiling, which would otherwise land in the first"
          + " level's tail. The JIT counts calls, not seconds, so it goes on until "
          + JIT_WARMUP_MIN_CALLS + " calls were answered (at most " + JIT_WARMUP_MAX_FACTOR
          + " times as long); 0 skips it.")
  double jitWarmup;

  /** Callers of the closed loop that warms up the JIT before the first level. */
  static final int JIT_WARMUP_CONCURRENCY = 8;

  /**
   * Calls the JIT warm-up answers at least: HotSpot compiles a method with C2 after about
   * 15,000 invocations (Tier4CompileThreshold), and the per-call code of the generator and the
   * server runs once a call. Ten seconds of 32-query calls were 5,700 calls here; measured at
   * half saturation on the 28k debian set, a 5 s warm-up left the generator at 480-600 us of CPU
   * a call and p99 at 4.5x-8.7x p50, 30 s at 270-340 us and 3.0x-3.3x.
   */
  static final long JIT_WARMUP_MIN_CALLS = 20_000;

  /** The JIT warm-up stops at this many times {@code --jit-warmup}, however few calls it saw. */
  static final int JIT_WARMUP_MAX_FACTOR = 6;

  @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "10",
      description = "Measured time per level (default: ${DEFAULT-VALUE}).")
  double duration;

  @Option(names = "--max-requests", paramLabel = "N", defaultValue = "0",
      description = "Stop a level after N measured calls (default: 0, no limit).")
  long maxRequests;

  @Option(names = "--batch", paramLabel = "N", defaultValue = "1",
      description = "Queries per call (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--max-in-flight", paramLabel = "N", defaultValue = "10000",
      description = "Open loop: most calls outstanding (default: ${DEFAULT-VALUE}).")
  int maxInFlight;

  @Option(names = "--retries", paramLabel = "N", defaultValue = "0",
      description = "Retries on UNAVAILABLE (default: 0, so every failure is counted).")
  int retries;

  @Option(names = "--connections", paramLabel = "N", defaultValue = "1",
      description = "Connections to spread the calls over, round robin (default:"
          + " ${DEFAULT-VALUE}); each has its own client event loop.")
  int connections;

  @Option(names = "--pooled-callbacks", hidden = true,
      description = "Complete calls on gRPC's pooled executor instead of its event loops (to"
          + " measure what the hand-off costs).")
  boolean pooledCallbacks;

  @Option(names = "--allow-remote", description = "Allow a target that is not a loopback address.")
  boolean allowRemote;

  @Option(names = "--server-pid", paramLabel = "PID",
      description = "The server's process id, when it runs on this machine: adds its CPU time per"
          + " call (server_cpu_us_per_call) to the summary.")
  Long serverPid;

  @Option(names = "--hiccups",
      description = "Also measure the platform's stalls as jHiccup does (a thread that sleeps 1 ms"
          + " at a time and records how late it wakes) and add their p99 and max to each level"
          + " (hiccup_p99_ms, hiccup_max_ms): the tail the machine itself adds to every call.")
  boolean hiccups;

  @Mixin JsonLinesOutOption out;

  @Option(names = "--report", paramLabel = "FILE.html",
      description = "Write a latency (p50/p99/p99.9) against throughput chart of the levels as HTML.")
  Path report;

  @Option(names = "--json", description = "Print one JSON line per level on stdout (the last is the last level's summary).")
  boolean json;

  private static final Gson GSON =
      new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

  @Override
  public Integer call() throws IOException, InterruptedException {
    PrintStream err = System.err;
    Target t = Target.parse(connection.target()).requireLoopback(allowRemote);
    validate();
    List<SearchParams> settingsList = searchSettings();
    if (load) {
      IndexSpec.parse(index); // a typo fails here, before anything is uploaded
    }
    String name = collection.collection().startsWith("collections/")
        ? collection.collection().substring("collections/".length()) : collection.collection();
    LoadGenerator.Settings settings = new LoadGenerator.Settings(seconds("--warmup", warmup),
        seconds("--duration", duration), maxRequests, maxInFlight);

    AnnDataset dataset = VectorFiles.readDataset(data);
    if (!dataset.hasGroundTruth()) {
      err.println("[loadtest] " + data + " has no neighbors: recall is not measured");
    }
    RowIds ids = load ? RowIds.prefixed(idPrefix) : RowIds.forData(data, idPrefix);
    String datasetName = data.getFileName().toString().replaceFirst("\\.(hdf5|h5)$", "");

    List<CodebookClient> extra = new ArrayList<>();
    List<io.netty.channel.EventLoopGroup> loops = new ArrayList<>();
    try (CodebookClient client = client(t, loops);
        HiccupMeter meter = hiccups ? new HiccupMeter(Duration.ofMillis(1)) : null) {
      for (int i = 1; i < connections; i++) {
        extra.add(client(t, loops));
      }
      Collection info;
      if (load) {
        info = new CollectionLoader(client, msg -> err.println("[loadtest] " + msg))
            .load(name, dataset.train(), dataset.similarity(), index, idPrefix, loadBatch, seed,
                replace).collection();
      } else {
        info = client.getCollection(name);
        if (info.getDimension() != dataset.dim()) {
          throw new IllegalArgumentException("collections/" + name + " has dimension "
              + info.getDimension() + ", but " + data + " has " + dataset.dim());
        }
      }
      int k = topK.k();
      List<QueryPlan> plans = new ArrayList<>();
      for (SearchParams params : settingsList) {
        SearchOptions options = SearchOptions.topK(k).withNprobe(params.nprobe())
            .withRerank(params.rerank());
        plans.add(new QueryPlan(name, dataset.test(), batch, options,
            dataset.hasGroundTruth() && k >= 10 ? dataset.neighbors() : null, ids));
      }
      String paramsText = settingsList.stream().map(SearchParams::toString)
          .collect(java.util.stream.Collectors.joining("; "));
      err.printf(Locale.ROOT, "[loadtest] %s on %s: %s, %,d vectors, %s; %,d test queries, %d per"
              + " call, %s%n", "collections/" + name, t, info.getIndexSpec(), info.getVectorCount(),
          info.getState(), dataset.test().rows(), batch, paramsText);
      boolean sweepsParams = settingsList.size() > 1;

      java.util.function.LongSupplier serverCpu =
          serverPid == null ? () -> -1 : LoadGenerator.processCpu(serverPid);
      List<Map<String, Object>> lines = new ArrayList<>();
      boolean open = !rate.isEmpty();
      List<? extends Number> levels = open ? rate : concurrency.isEmpty() ? List.of(1) : concurrency;
      List<LoadGenerator.Sender> senders = senders(client, extra, loops);
      boolean warnedIds = false;
      if (jitWarmup > 0) {
        warmUpJit(senders, plans.get(0), serverCpu, err);
      }
      for (int p = 0; p < plans.size(); p++) {
        QueryPlan plan = plans.get(p);
        SearchParams params = settingsList.get(p);
        String prefix = sweepsParams ? "[loadtest] " + params + " " : "[loadtest] ";
        for (Number level : levels) {
          LoadGenerator generator = new LoadGenerator(senders, plan, settings,
              line -> err.println(prefix + line), serverCpu);
          if (meter != null) {
            meter.sinceLast(); // start afresh: the level's warm-up and measurement
          }
          LoadGenerator.Level result = open ? generator.openLoop(level.doubleValue())
              : generator.closedLoop(level.intValue());
          Map<String, Object> line = summary(result, t, name, info, params, batch,
              datasetName);
          if (meter != null) {
            org.HdrHistogram.Histogram h = meter.sinceLast();
            line.put("hiccup_p99_ms", round(h.getValueAtPercentile(99) / 1e3, 3));
            line.put("hiccup_max_ms", round(h.getMaxValue() / 1e3, 3));
          }
          lines.add(line);
          if (result.recall().noIdIsARow() && !warnedIds) {
            err.println("[loadtest] warning: no recall: " + ids.noRowsExplanation(data,
                result.recall().otherIds(), result.recall().otherId()));
            warnedIds = true;
          }
          err.println("[loadtest] " + humanLine(line, sweepsParams));
          if (json) {
            System.out.println(GSON.toJson(line));
            System.out.flush();
          }
        }
      }
      if (!json) {
        printTable(lines, sweepsParams);
      }
      if (out.out() != null) {
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> line : lines) {
          sb.append(GSON.toJson(line)).append('\n');
        }
        Files.writeString(out.out(), sb, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      }
      if (report != null) {
        LatencyThroughputChart chart = new LatencyThroughputChart(String.format(Locale.ROOT,
            "Latency vs throughput: %s, %s, %s, batch %d", datasetName, info.getIndexSpec(),
            paramsText, batch));
        chart.addLines(lines);
        chart.writeHtml(report, String.format(Locale.ROOT, "Target %s, %.0f s per level after"
            + " %.0f s warm-up (and a JIT warm-up of at least %.0f s before the first).", t,
            duration, warmup, jitWarmup));
        err.println("[loadtest] wrote " + report);
      }
      return 0;
    } catch (CodebookException e) {
      if (e.code() == Status.Code.UNAVAILABLE) {
        throw new IllegalStateException("no server at " + t + " (" + e.getMessage()
            + "); start one with `codebook serve`");
      }
      throw e;
    } finally {
      extra.forEach(CodebookClient::close);
      for (io.netty.channel.EventLoopGroup g : loops) {
        g.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * Runs the JIT warm-up: a closed loop for {@code --jit-warmup} seconds, extended until it has
   * answered {@link #JIT_WARMUP_MIN_CALLS} calls or run {@link #JIT_WARMUP_MAX_FACTOR} times as
   * long. A closed loop, because a fresh server runs its first searches interpreted, at a few a
   * second: a timetable would fill its queue and warm up on RESOURCE_EXHAUSTED answers, while a
   * closed loop paces itself to whatever the server manages.
   */
  private void warmUpJit(List<LoadGenerator.Sender> senders, QueryPlan plan,
      java.util.function.LongSupplier serverCpu, PrintStream err) throws InterruptedException {
    double spent = 0;
    long calls = 0;
    for (double next = jitWarmup; next > 0; next = moreJitWarmup(jitWarmup, spent, calls)) {
      if (spent > 0) {
        err.printf(Locale.ROOT, "[loadtest] JIT warm-up: %,d calls answered in %.1f s; the JIT"
            + " counts calls, so %.1f s more (to %,d calls)%n", calls, spent, next,
            JIT_WARMUP_MIN_CALLS);
      }
      LoadGenerator.Level w = new LoadGenerator(senders, plan, new LoadGenerator.Settings(
          Duration.ZERO, seconds("--jit-warmup", next), 0, maxInFlight),
          line -> err.println("[loadtest] JIT warm-up, closed loop: " + line), serverCpu)
          .closedLoop(JIT_WARMUP_CONCURRENCY);
      spent += next;
      calls += w.stats().calls() + w.stats().errorCount();
    }
  }

  /**
   * Seconds more of JIT warm-up after {@code spent} seconds answered {@code calls} calls, or 0
   * when done: enough at the rate so far to reach {@link #JIT_WARMUP_MIN_CALLS} (at least one
   * second), but never past {@link #JIT_WARMUP_MAX_FACTOR} times {@code jitWarmup}.
   */
  static double moreJitWarmup(double jitWarmup, double spent, long calls) {
    double left = jitWarmup * JIT_WARMUP_MAX_FACTOR - spent;
    if (calls >= JIT_WARMUP_MIN_CALLS || left <= 1e-9) {
      return 0;
    }
    double perSecond = calls / spent;
    double needed = perSecond > 0 ? (JIT_WARMUP_MIN_CALLS - calls) / perSecond : left;
    return Math.min(left, Math.max(1, Math.ceil(needed)));
  }

  /**
   * A client on a connection of its own, run by a one-thread event loop of its own (added to
   * {@code loops}, which the caller shuts down) that the open loop also sends from.
   */
  private CodebookClient client(Target t, List<io.netty.channel.EventLoopGroup> loops) {
    boolean epoll = io.netty.channel.epoll.Epoll.isAvailable();
    io.netty.channel.EventLoopGroup group = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
        new io.netty.util.concurrent.DefaultThreadFactory("loadtest-loop", true),
        epoll ? io.netty.channel.epoll.EpollIoHandler.newFactory()
            : io.netty.channel.nio.NioIoHandler.newFactory());
    loops.add(group);
    return connection.builder().target(t.toString()).maxRetries(retries)
        .batchSize(loadBatch).directExecutor(!pooledCallbacks)
        .eventLoopGroup(group, epoll ? io.netty.channel.epoll.EpollSocketChannel.class
            : io.netty.channel.socket.nio.NioSocketChannel.class)
        .build();
  }

  /** Each connection's client with the event loop it runs on, in the order of {@code loops}. */
  private static List<LoadGenerator.Sender> senders(CodebookClient first,
      List<CodebookClient> extra, List<io.netty.channel.EventLoopGroup> loops) {
    List<CodebookClient> all = new ArrayList<>(extra);
    all.add(0, first);
    List<LoadGenerator.Sender> senders = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      senders.add(new LoadGenerator.Sender(all.get(i)::searchAsync, loops.get(i).next()));
    }
    return senders;
  }

  private void validate() {
    if (connections <= 0) {
      throw new IllegalArgumentException("--connections must be positive, got " + connections);
    }
    if (!concurrency.isEmpty() && !rate.isEmpty()) {
      throw new IllegalArgumentException("give --concurrency (closed loop) or --rate (open loop), not both");
    }
    for (int c : concurrency) {
      if (c <= 0) {
        throw new IllegalArgumentException("--concurrency must be positive, got " + c);
      }
    }
    for (double r : rate) {
      if (!(r > 0) || Double.isInfinite(r)) {
        throw new IllegalArgumentException("--rate must be positive, got " + LoadGenerator.fmt(r));
      }
    }
    if (batch <= 0) {
      throw new IllegalArgumentException("--batch must be positive, got " + batch);
    }
    if (loadBatch <= 0) {
      throw new IllegalArgumentException("--load-batch must be positive, got " + loadBatch);
    }
    if (!(connection.timeoutSeconds() > 0)) {
      throw new IllegalArgumentException("--timeout must be positive, got "
          + connection.timeoutSeconds());
    }
    for (int n : nprobe) {
      if (n <= 0) {
        throw new IllegalArgumentException("--nprobe must be positive, got " + n);
      }
    }
    for (int r : rerank) {
      if (r <= 0) {
        throw new IllegalArgumentException("--rerank must be positive, got " + r);
      }
    }
    if (retries < 0) {
      throw new IllegalArgumentException("--retries must be >= 0, got " + retries);
    }
    if (serverPid != null && ProcessHandle.of(serverPid).isEmpty()) {
      throw new IllegalArgumentException("--server-pid " + serverPid + ": no such process");
    }
    if (replace && !load) {
      throw new IllegalArgumentException("--replace only applies with --load");
    }
  }

  /**
   * The search settings the levels run with, in order: {@code --search}, with each value of
   * {@code --nprobe} and {@code --rerank} over its values (re-rank factors outer, as {@code
   * bench} sweeps them).
   */
  private List<SearchParams> searchSettings() {
    SearchParams p = SearchParams.parse(search);
    List<Integer> nprobes = nprobe.isEmpty() ? List.of(p.nprobe()) : nprobe;
    List<Integer> reranks = rerank.isEmpty() ? List.of(p.rerank()) : rerank;
    List<SearchParams> out = new ArrayList<>();
    for (int r : reranks) {
      for (int n : nprobes) {
        out.add(new SearchParams(n, r));
      }
    }
    return out;
  }

  private static Duration seconds(String option, double s) {
    if (Double.isNaN(s) || Double.isInfinite(s)) {
      throw new IllegalArgumentException(option + " must be a number of seconds, got " + s);
    }
    if (s < 0) {
      throw new IllegalArgumentException(option + " must be >= 0, got " + LoadGenerator.fmt(s));
    }
    return Duration.ofNanos((long) (s * 1e9));
  }

  /** One level as a JSON object; the field names are the command-line contract. */
  static Map<String, Object> summary(LoadGenerator.Level r, Target target, String collection,
      Collection info, SearchParams params, int batch, String dataset) {
    LatencyStats s = r.stats();
    LevelRecall recall = r.recall();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("system", "codebook-server");
    m.put("mode", r.open() ? "open" : "closed");
    if (r.open()) {
      m.put("rate", r.rate() == Math.rint(r.rate()) ? (Object) (long) r.rate() : (Object) r.rate());
    } else {
      m.put("concurrency", r.concurrency());
    }
    m.put("qps", round(r.qps(), 1));
    m.put("recall@10", round(recall.recallAt10(), 4));
    m.put("recall@1", round(recall.recallAt1(), 4));
    m.put("errors", s.errors());
    m.put("p50_ms", round(s.latencyMs(50), 3));
    m.put("p90_ms", round(s.latencyMs(90), 3));
    m.put("p99_ms", round(s.latencyMs(99), 3));
    m.put("p999_ms", round(s.latencyMs(99.9), 3));
    m.put("max_ms", round(s.maxMs(), 3));
    m.put("mean_ms", round(s.meanMs(), 3));
    if (r.open()) {
      // from the actual send: what the same run would report with coordinated omission
      m.put("service_p50_ms", round(s.serviceMs(50), 3));
      m.put("service_p99_ms", round(s.serviceMs(99), 3));
      m.put("late_sends", s.lateSends());
      m.put("max_send_lag_ms", round(s.maxSendLagMs(), 3));
    }
    m.put("duration_s", round(r.seconds(), 3));
    m.put("requests", s.calls());
    m.put("sent", r.sent());
    m.put("errors_total", s.errorCount());
    m.put("queries", s.queries());
    m.put("calls_per_s", round(r.callsPerSecond(), 1));
    m.put("batch", batch);
    m.put("client_cpu_us_per_call", round(r.clientCpuSeconds() >= 0 ? r.clientCpuMicrosPerCall()
        : Double.NaN, 1));
    if (!Double.isNaN(r.serverCpuSeconds())) {
      m.put("server_cpu_us_per_call", round(r.serverCpuMicrosPerCall(), 1));
    }
    m.put("recall_queries", recall.queries());
    m.put("recall_failed_queries", recall.failedQueries());
    m.put("target", target.toString());
    m.put("collection", "collections/" + collection);
    m.put("index", info.getIndexSpec());
    m.put("params", params.toString());
    m.put("dataset", dataset);
    m.put("n", info.getVectorCount());
    return m;
  }

  private static String humanLine(Map<String, Object> m, boolean withParams) {
    String level = levelName(m, withParams);
    return String.format(Locale.ROOT, "%s done: %,.0f QPS, p50 %s ms, p99 %s ms, p99.9 %s"
            + " ms, max %s ms, recall@10 %s, errors %s", level, (Double) m.get("qps"),
        m.get("p50_ms"), m.get("p99_ms"), m.get("p999_ms"), m.get("max_ms"), m.get("recall@10"),
        m.get("errors"));
  }

  /** {@code c=4} or {@code rate 500}, after the search setting when the run sweeps them. */
  private static String levelName(Map<String, Object> m, boolean withParams) {
    String level = "open".equals(m.get("mode")) ? "rate " + m.get("rate") : "c=" + m.get("concurrency");
    return withParams ? m.get("params") + " " + level : level;
  }

  private static void printTable(List<Map<String, Object>> lines, boolean withParams) {
    String width = withParams ? "%-34s" : "%-14s";
    System.out.printf(width + " %10s %9s %9s %9s %9s %9s %9s  %s%n", "level", "QPS", "p50 ms",
        "p90 ms", "p99 ms", "p99.9 ms", "max ms", "recall@10", "errors");
    for (Map<String, Object> m : lines) {
      String level = levelName(m, withParams);
      System.out.printf(Locale.ROOT, width + " %,10.0f %9s %9s %9s %9s %9s %9s  %s%n", level,
          (Double) m.get("qps"), m.get("p50_ms"), m.get("p90_ms"),
          m.get("p99_ms"), m.get("p999_ms"), m.get("max_ms"),
          m.get("recall@10"), ((Map<?, ?>) m.get("errors")).isEmpty() ? "none" : m.get("errors"));
    }
  }

  /** {@code v} to {@code digits} decimals; null (JSON null) for NaN, e.g. no recall measured. */
  static Double round(double v, int digits) {
    if (Double.isNaN(v)) {
      return null;
    }
    double s = Math.pow(10, digits);
    return Math.round(v * s) / s;
  }
}
