package dev.codebook.cli;

import dev.codebook.api.v1.AttributeValue;
import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.collection.CollectionOptions;
import dev.codebook.index.store.Durability;
import dev.codebook.index.vector.AnnBenchmarksHdf5;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import dev.codebook.loadtest.bench.BenchCommand;
import dev.codebook.server.CodebookServer;
import dev.codebook.server.ServerConfig;
import dev.codebook.server.ServerConfigFile;
import dev.codebook.server.Warmup;
import dev.codebook.server.collection.Collection;
import dev.codebook.server.collection.CollectionRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.zip.GZIPInputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code codebook serve}: run the gRPC server until SIGTERM or SIGINT. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    header = "Run the gRPC server until SIGTERM or Ctrl-C.",
    description = {
      "Runs the Codebook gRPC server (codebook.v1, health checking, reflection)",
      "until SIGTERM or SIGINT (Ctrl-C), then drains the calls in flight and stops.",
      "Binds to loopback by default. Unless --no-sample, the bundled sample is loaded",
      "into collections/" + ServeCommand.SAMPLE_COLLECTION + " (cosine, "
          + ServeCommand.SAMPLE_SPEC + ") and its index built, unless the data directory",
      "already holds it. Collections are durable: each is a directory under",
      "DIR/collections/, reopened at start-up (write-ahead log replayed)."
    })
public final class ServeCommand implements Callable<Integer> {

  /** Name of the collection the bundled sample is loaded into. */
  public static final String SAMPLE_COLLECTION = "debian-minilm-5k";

  /** Index spec of the sample collection. */
  public static final String SAMPLE_SPEC = "IVF64,PQ48x4fs,RFlat";

  @Option(names = "--config", paramLabel = "FILE",
      description = "YAML configuration file (keys in the README); flags override it.")
  Path configFile;

  @Option(names = "--host", paramLabel = "HOST",
      description = "Address to bind (default: " + ServerConfig.DEFAULT_HOST + ", loopback only;"
          + " 0.0.0.0 for all interfaces).")
  String host;

  @Option(names = "--port", paramLabel = "PORT",
      description = "TCP port (default: " + ServerConfig.DEFAULT_PORT + "; 0 picks a free one).")
  Integer port;

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "Storage directory (default: the config file's, else ./data), created if"
          + " missing; one directory per collection under DIR/collections/.")
  Path dataDir;

  @Option(names = "--durability", paramLabel = "POLICY", defaultValue = "group:5ms",
      description = "When a write is acknowledged: fsync (an fsync per request), group:<N>ms"
          + " (at most one fsync per N ms, covering every writer waiting; default: ${DEFAULT-VALUE}) or"
          + " none (written to the OS only: survives a process crash, not a power failure).")
  String durability;

  @Option(names = "--flush-rows", paramLabel = "N",
      defaultValue = "" + CollectionOptions.DEFAULT_FLUSH_ROWS,
      description = "Buffered vectors that trigger a flush into a segment (default:"
          + " ${DEFAULT-VALUE}).")
  int flushRows;

  @Option(names = "--no-sample", description = "Do not load the bundled sample collection.")
  boolean noSample;

  @Option(names = "--search-threads", paramLabel = "N",
      description = "Threads that run searches (default: one per core).")
  Integer searchThreads;

  @Option(names = "--search-queue", paramLabel = "N",
      description = "Searches that may wait for a thread before calls get RESOURCE_EXHAUSTED"
          + " (default: " + ServerConfig.DEFAULT_SEARCH_QUEUE_CAPACITY + ").")
  Integer searchQueue;

  @Option(names = "--search-batch", paramLabel = "N",
      description = "Most queries a search thread runs as one batch when single-query calls"
          + " queue up behind each other (default: " + ServerConfig.DEFAULT_SEARCH_BATCH
          + "; 1 searches every call on its own).")
  Integer searchBatch;

  @Option(names = "--metrics-port", paramLabel = "PORT",
      description = "Serve Prometheus metrics at http://HOST:PORT/metrics (default: off;"
          + " 0 picks a free port, -1 turns it off).")
  Integer metricsPort;

  @Option(names = "--warmup-ms", paramLabel = "MS", defaultValue = "15000",
      description = "Search the loaded collections (a few thousand queries) before saying"
          + " ready, for at most MS milliseconds, so that the first queries are not slowed by"
          + " class loading and compilation (default: ${DEFAULT-VALUE}; 0 skips it).")
  long warmup;

  @Option(names = "--backup-root", paramLabel = "DIR",
      description = "Allow BackupCollection and RestoreCollection under DIR only (default: off,"
          + " both refused).")
  Path backupRoot;

  @Option(names = "--tls-cert", paramLabel = "PEM",
      description = "Serve TLS with this certificate chain (needs --tls-key).")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "PEM", description = "The TLS private key (PKCS#8).")
  Path tlsKey;

  /** The configuration: defaults, then the file, then the flags. */
  ServerConfig config() throws IOException {
    ServerConfig base = ServerConfig.defaults();
    if (configFile != null) {
      ServerConfigFile f = ServerConfigFile.load(configFile);
      base = f.config();
      if (dataDir == null) {
        dataDir = f.dataDir();
      }
    }
    if (dataDir == null) {
      dataDir = Path.of("./data");
    }
    ServerConfig.Builder b = base.toBuilder();
    if (host != null) {
      b.host(host);
    }
    if (port != null) {
      b.port(port);
    }
    if (searchThreads != null) {
      b.searchThreads(searchThreads);
    }
    if (searchQueue != null) {
      b.searchQueueCapacity(searchQueue);
    }
    if (searchBatch != null) {
      b.searchBatch(searchBatch);
    }
    if (metricsPort != null) {
      b.metricsPort(metricsPort);
    }
    if (tlsCert != null || tlsKey != null) {
      b.tls(tlsCert, tlsKey);
    }
    if (backupRoot != null) {
      b.backupRoot(backupRoot.toAbsolutePath());
    }
    return b.build();
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    ServerConfig config = config();
    CollectionOptions storeOptions = CollectionOptions.defaults()
        .withDurability(Durability.parse(durability)).withFlushRows(flushRows);
    long t0 = System.nanoTime();
    CollectionRegistry registry = CollectionRegistry.open(dataDir, storeOptions);
    double openSeconds = (System.nanoTime() - t0) / 1e9;
    CodebookServer server;
    try {
      server = CodebookServer.start(config, registry);
    } catch (IOException | RuntimeException e) {
      registry.close();
      throw e;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "codebook-shutdown"));
    System.out.printf("codebook: serving codebook.v1 on %s (%s, %s%s); data dir %s: %d"
            + " collections opened in %.2f s%s, durability %s%s%n", server.address(),
        server.transport(), config.tls() ? "TLS" : "plaintext",
        config.apiKeys().isEmpty() ? "" : ", API key required", dataDir, registry.size(),
        openSeconds,
        registry.failures().isEmpty() ? "" : ", " + registry.failures().size()
            + " failed to open (calls to them get DATA_LOSS): " + registry.failures().keySet(),
        storeOptions.durability(), server.metricsPort() < 0 ? ""
            : "; metrics on http://" + config.host() + ":" + server.metricsPort() + "/metrics");
    if (!noSample && !Files.exists(registry.directoryOf(SAMPLE_COLLECTION))) {
      loadSample(server.registry());
    }
    if (warmup > 0) {
      Warmup.Result w = Warmup.run(server, java.time.Duration.ofMillis(warmup));
      if (w.collections() > 0) {
        System.out.printf("codebook: warmed up %d collections in %.1f s (%,d queries in"
            + " process, %,d calls through the port)%n", w.collections(), w.millis() / 1e3,
            w.searches(), w.calls());
      }
    }
    System.out.println("codebook: ready; SIGTERM or Ctrl-C stops the server gracefully");
    System.out.flush();
    server.awaitTermination();
    return 0;
  }

  /** Loads the bundled sample's train vectors and builds its index; warns if it is missing. */
  private static void loadSample(CollectionRegistry registry) throws IOException {
    Path file = BenchCommand.defaultSample();
    if (!Files.isRegularFile(file)) {
      System.err.println("codebook: warning: no sample at " + file
          + "; starting without it (--no-sample skips this)");
      return;
    }
    long t0 = System.nanoTime();
    FloatMatrix train = AnnBenchmarksHdf5.readVectors(file, "train");
    List<String> ids = sideFile(file, "names", train.rows());
    List<String> docs = sideFile(file, "docs", train.rows());
    List<String> rowIds = new ArrayList<>(train.rows());
    List<Map<String, AttributeValue>> attrs = new ArrayList<>(train.rows());
    for (int i = 0; i < train.rows(); i++) {
      rowIds.add(ids != null ? ids.get(i) : Integer.toString(i));
      attrs.add(docs == null ? Map.of()
          : Map.of("description", AttributeValue.newBuilder().setStringValue(docs.get(i)).build()));
    }
    Collection c = registry.create(SAMPLE_COLLECTION, train.dim(), Similarity.COSINE,
        IndexSpec.parse(SAMPLE_SPEC));
    c.upsert(rowIds, train, attrs);
    Collection.BuildResult built = c.build(new IndexFactory.BuildOptions(
        IndexFactory.DEFAULT_SEED, Runtime.getRuntime().availableProcessors(), line -> {}));
    System.out.printf("codebook: loaded %s: %d vectors of %d, %s built in %.1f s (%s%s)%n",
        c.name(), built.trainingVectors(), train.dim(), SAMPLE_SPEC,
        (System.nanoTime() - t0) / 1e9, ids != null ? "ids are Debian package names" : "ids are row numbers",
        docs != null ? ", attribute 'description'" : "");
  }

  /**
   * The lines of {@code <sample>.<kind>.txt.gz} beside the sample, or null if it is missing or
   * does not have one line per vector.
   */
  private static List<String> sideFile(Path sample, String kind, int rows) throws IOException {
    String stem = sample.getFileName().toString().replaceFirst("\\.hdf5$", "");
    Path f = sample.resolveSibling(stem + "." + kind + ".txt.gz");
    if (!Files.isRegularFile(f)) {
      return null;
    }
    List<String> lines = new ArrayList<>(rows);
    try (BufferedReader r = new BufferedReader(new InputStreamReader(
        new GZIPInputStream(Files.newInputStream(f)), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        lines.add(line);
      }
    }
    if (lines.size() != rows || (kind.equals("names") && !usableIds(lines))) {
      return null;
    }
    return lines;
  }

  /** Whether every line is a valid vector id (1 to 256 characters) and none repeats. */
  private static boolean usableIds(List<String> lines) {
    List<String> sorted = new ArrayList<>(lines);
    Collections.sort(sorted);
    for (int i = 0; i < sorted.size(); i++) {
      String id = sorted.get(i);
      if (id.isEmpty() || id.length() > 256 || (i > 0 && id.equals(sorted.get(i - 1)))) {
        return false;
      }
    }
    return true;
  }
}
