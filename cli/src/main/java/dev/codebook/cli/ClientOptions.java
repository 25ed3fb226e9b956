package dev.codebook.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.Metric;
import dev.codebook.client.CodebookClient;
import dev.codebook.index.vector.Similarity;
import dev.codebook.loadtest.cli.ConnectionOptions;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Options every client subcommand shares: where the server is and how to reach it (the
 * {@link ConnectionOptions} of every command that calls a server), retries, how to print.
 */
final class ClientOptions extends ConnectionOptions {

  @Option(names = "--retries", paramLabel = "N", defaultValue = "" + CodebookClient.DEFAULT_MAX_RETRIES,
      description = "Retries of safe calls while the server is UNAVAILABLE (default: ${DEFAULT-VALUE}).")
  int retries;

  @Option(names = "--json", description = "Print JSON lines for scripts instead of text.")
  boolean json;

  static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues()
      .create();

  CodebookClient connect() {
    return builder().build();
  }

  /** A client builder with these options, for commands that set more. */
  @Override
  public CodebookClient.Builder builder() {
    return super.builder().maxRetries(retries);
  }

  void printJson(Map<String, ?> object) {
    System.out.println(GSON.toJson(object));
  }

  /** A collection as a flat JSON object: id, name, dimension, metric, index, vector_count, state. */
  static Map<String, Object> toMap(Collection c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id(c.getName()));
    m.put("name", c.getName());
    m.put("dimension", c.getDimension());
    m.put("metric", c.getMetric().name());
    m.put("index_spec", c.getIndexSpec());
    m.put("vector_count", c.getVectorCount());
    m.put("state", c.getState().name());
    if (c.hasCreateTime()) {
      m.put("create_time", Instant.ofEpochSecond(c.getCreateTime().getSeconds(),
          c.getCreateTime().getNanos()).toString());
    }
    if (c.hasBuildTime()) {
      m.put("build_time", Instant.ofEpochSecond(c.getBuildTime().getSeconds(),
          c.getBuildTime().getNanos()).toString());
    }
    return m;
  }

  /** An operation as a flat JSON object. */
  static Map<String, Object> toMap(dev.codebook.api.v1.Operation op) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", op.getName());
    m.put("collection", op.getCollection());
    m.put("kind", op.getKind().name());
    m.put("state", op.getState().name());
    m.put("done", op.getDone());
    m.put("progress", Math.round(op.getProgress() * 10000) / 10000.0);
    m.put("phase", op.getPhase());
    if (op.hasStartTime()) {
      m.put("start_time", Instant.ofEpochSecond(op.getStartTime().getSeconds(),
          op.getStartTime().getNanos()).toString());
    }
    if (op.hasEndTime()) {
      m.put("end_time", Instant.ofEpochSecond(op.getEndTime().getSeconds(),
          op.getEndTime().getNanos()).toString());
    }
    if (op.hasError()) {
      m.put("error_code", io.grpc.Status.fromCodeValue(op.getError().getCode()).getCode().name());
      m.put("error", op.getError().getMessage());
    }
    if (op.hasBuildResult()) {
      m.put("training_vector_count", op.getBuildResult().getTrainingVectorCount());
      m.put("build_s", op.getBuildResult().getBuildDuration().getSeconds()
          + op.getBuildResult().getBuildDuration().getNanos() / 1e9);
    }
    if (op.getCancelRequested()) {
      m.put("cancel_requested", true);
    }
    return m;
  }

  /** One line about an operation for people. */
  static String describe(dev.codebook.api.v1.Operation op) {
    StringBuilder b = new StringBuilder(String.format(java.util.Locale.ROOT,
        "%s  %s  %s  %s  %3d%%  %s", op.getName(), op.getKind(), op.getCollection(),
        op.getState(), Math.round(op.getProgress() * 100), op.getPhase()));
    if (op.hasError()) {
      b.append("  error: ").append(op.getError().getMessage());
    }
    return b.toString();
  }

  static String id(String name) {
    return name.startsWith("collections/") ? name.substring("collections/".length()) : name;
  }

  /** A {@code --metric} (see {@code MetricConverter}) as the API's metric. */
  static Metric metric(Similarity similarity) {
    return switch (similarity) {
      case COSINE -> Metric.COSINE;
      case DOT_PRODUCT -> Metric.DOT_PRODUCT;
      case EUCLIDEAN -> Metric.EUCLIDEAN;
    };
  }
}
