package dev.codebook.cli;

import dev.codebook.api.v1.BuildIndexResponse;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.Operation;
import dev.codebook.client.CodebookClient;
import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.collection.CollectionEngine;
import dev.codebook.index.collection.CollectionOptions;
import dev.codebook.index.store.DirectoryLock;
import dev.codebook.index.store.Durability;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import dev.codebook.index.vector.VectorFiles;
import dev.codebook.loadtest.cli.Defaults;
import dev.codebook.loadtest.cli.MetricConverter;
import dev.codebook.loadtest.cli.SeedOption;
import dev.codebook.server.collection.CollectionRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code codebook build}: start a build job on the server and (by default) wait for it, or
 * offline (with {@code --out}) write a collection directory from a vectors file that a server
 * opens as is.
 */
@Command(name = "build", mixinStandardHelpOptions = true,
    header = "Build a collection's index, on a server or offline.",
    description = {
      "Online (--collection): trains the collection's index spec on its vectors and swaps the"
          + " index in, as a job on the server (an operation, see `codebook jobs`). Waits for it"
          + " with a progress bar on stderr unless --no-wait; Ctrl-C while waiting leaves the job"
          + " running.",
      "Offline (--data FILE --index SPEC --out DIR/collections/NAME): writes a collection"
          + " directory from a vectors file (row i gets id PREFIX + i), trained and encoded, that"
          + " `serve --data-dir DIR` opens as collection NAME."
    })
public final class BuildCommand implements Callable<Integer> {

  @Mixin ClientOptions client;

  @Option(names = "--collection", paramLabel = "NAME",
      description = "Collection id (online mode).")
  String collection;

  @Option(names = "--data", paramLabel = "FILE",
      description = "Offline: the vectors (" + VectorFiles.SUPPORTED + "; HDF5: train).")
  Path data;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Offline: the collection directory to write (must not exist or be empty).")
  Path out;

  @Option(names = "--metric", paramLabel = "METRIC", defaultValue = Defaults.METRIC,
      description = "Offline: " + MetricConverter.NAMES + " (default: ${DEFAULT-VALUE}).")
  String metric;

  @Option(names = "--id-prefix", paramLabel = "P", defaultValue = "",
      description = "Offline: prefix of the ids, which end in the row number (default: none).")
  String idPrefix;

  @Option(names = "--limit", paramLabel = "N", description = "Offline: only the first N rows.")
  Integer limit;

  @Option(names = "--max-train", paramLabel = "N", defaultValue = "100000",
      description = "Offline: train on a seeded sample of at most N rows (default: ${DEFAULT-VALUE}).")
  int maxTrain;

  @Option(names = "--index", paramLabel = "SPEC",
      description = "Expected index spec; the spec is fixed when the collection is created, so a"
          + " different one is an error rather than a silent rebuild with the old spec.")
  String index;

  @Mixin SeedOption seed;

  @Option(names = {"--max-wait", "--build-timeout"}, paramLabel = "SECONDS", defaultValue = "3600",
      description = "Give up waiting for the build after this long, as `jobs wait --max-wait`"
          + " (default: ${DEFAULT-VALUE}).")
  long buildTimeout;

  @Option(names = "--no-wait", description = "Print the started operation and return at once.")
  boolean noWait;

  @Override
  public Integer call() throws IOException {
    if (out != null || data != null) {
      return offline();
    }
    if (collection == null) {
      throw new IllegalArgumentException("give --collection NAME (build on a server) or --data"
          + " FILE --index SPEC --out DIR (write a collection directory offline)");
    }
    try (CodebookClient c = client.builder().buildDeadline(Duration.ofSeconds(buildTimeout))
        .build()) {
      if (index != null) {
        Collection current = c.getCollection(collection);
        if (!current.getIndexSpec().equalsIgnoreCase(index.strip())) {
          throw new IllegalArgumentException("collections/" + ClientOptions.id(collection)
              + " was created with index spec " + current.getIndexSpec() + ", not " + index
              + "; the spec is fixed at creation (create a new collection for another spec)");
        }
      }
      Operation op = c.startBuildIndex(collection, seed.seed());
      if (noWait) {
        if (client.json) {
          client.printJson(ClientOptions.toMap(op));
        } else {
          System.out.println("started " + op.getName() + "; follow it with `codebook jobs wait"
              + " --name " + op.getName() + "`");
        }
        return 0;
      }
      ProgressBar bar = client.json ? null : new ProgressBar(System.err, "build");
      op = c.awaitOperation(op.getName(), Duration.ofSeconds(buildTimeout), o -> {
        if (bar != null) {
          bar.update(o.getProgress(), o.getPhase(), o.getDone());
        }
      });
      if (bar != null) {
        bar.finish();
      }
      BuildIndexResponse r = CodebookClient.resultOf(op);
      double seconds = r.getBuildDuration().getSeconds() + r.getBuildDuration().getNanos() / 1e9;
      if (client.json) {
        Map<String, Object> m = ClientOptions.toMap(r.getCollection());
        m.put("operation", op.getName());
        m.put("training_vector_count", r.getTrainingVectorCount());
        m.put("build_s", seconds);
        client.printJson(m);
      } else {
        System.out.printf("built %s (%s): %,d vectors, trained on %,d, %.1f s; %s (%s)%n",
            r.getCollection().getName(), r.getCollection().getIndexSpec(),
            r.getCollection().getVectorCount(), r.getTrainingVectorCount(), seconds,
            r.getCollection().getState(), op.getName());
      }
    }
    return 0;
  }

  private int offline() throws IOException {
    if (data == null || out == null || index == null) {
      throw new IllegalArgumentException("offline build needs --data FILE, --index SPEC and"
          + " --out DIR");
    }
    if (limit != null && limit <= 0) {
      throw new IllegalArgumentException("--limit must be positive, got " + limit);
    }
    IndexSpec spec = IndexSpec.parse(index);
    Similarity similarity = Similarity.parse(metric);
    try (DirectoryLock dataDir = lockDataDirectoryOf(out)) {
      return offline(spec, similarity);
    }
  }

  /**
   * The lock of the data directory {@code out} is a collection of ({@code DATA/collections/NAME}),
   * so that no server serves it while the build writes there; null when {@code out} is not in
   * one.
   */
  private static DirectoryLock lockDataDirectoryOf(Path out) throws IOException {
    Path parent = out.toAbsolutePath().normalize().getParent();
    if (parent == null || parent.getParent() == null || !parent.getFileName().toString()
        .equals(CollectionRegistry.COLLECTIONS_DIR) || !Files.isDirectory(parent)) {
      return null;
    }
    return DirectoryLock.obtain(parent.getParent(), "data directory");
  }

  private int offline(IndexSpec spec, Similarity similarity) throws IOException {
    long t0 = System.nanoTime();
    FloatMatrix m = VectorFiles.readVectors(data);
    int rows = limit == null ? m.rows() : Math.min(limit, m.rows());
    int dim = m.dim();
    // Bulk load: the log is not synced per batch; build() commits (fsyncs) everything at the end.
    CollectionOptions options = CollectionOptions.defaults()
        .withDurability(Durability.none()).withFlushRows(50_000).withBackgroundMaintenance(false);
    try (CollectionEngine store = CollectionEngine.create(out, dim, similarity, spec, options)) {
      int batch = 10_000;
      for (int from = 0; from < rows; from += batch) {
        int to = Math.min(rows, from + batch);
        List<String> ids = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
          ids.add(idPrefix + i);
        }
        float[] values = Arrays.copyOfRange(m.data(), m.offset(from), m.offset(from) + (to - from) * dim);
        store.upsert(ids, values, Collections.nCopies(to - from, new byte[0]));
        if (store.bufferedRows() >= 50_000) {
          store.flush();
        }
        System.err.printf("\r[build] loaded %,d/%,d", to, rows);
      }
      System.err.println();
      double loadS = (System.nanoTime() - t0) / 1e9;
      System.err.println("[build] training " + spec + " and encoding ...");
      CollectionEngine.BuildResult r = store.build(new IndexFactory.BuildOptions(
          seed.seed() == 0 ? IndexFactory.DEFAULT_SEED : seed.seed(), Runtime.getRuntime().availableProcessors(),
          line -> System.err.println("[build] " + line)), maxTrain);
      double total = (System.nanoTime() - t0) / 1e9;
      if (client.json) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("out", out.toString());
        j.put("index", spec.toString());
        j.put("vector_count", store.liveCount());
        j.put("training_vector_count", r.trainingVectors());
        j.put("load_s", Math.round(loadS * 1000) / 1000.0);
        j.put("build_s", Math.round(total * 1000) / 1000.0);
        client.printJson(j);
      } else {
        System.out.printf("built %s: %,d vectors of %d, %s, trained on %,d, %.1f s; serve it with"
                + " --data-dir %s%n", out, store.liveCount(), dim, spec, r.trainingVectors(), total,
            out.toAbsolutePath().getParent() == null ? "?" : out.toAbsolutePath().getParent().getParent());
      }
    }
    return 0;
  }
}
