package dev.codebook.loadtest.load;

import dev.codebook.api.v1.BuildIndexResponse;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.Operation;
import dev.codebook.client.CodebookClient;
import dev.codebook.client.CodebookException;
import dev.codebook.client.UpsertResult;
import dev.codebook.client.VectorRecord;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import io.grpc.Status;
import java.time.Duration;
import java.util.AbstractList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * {@code loadtest --load}: creates the collection, streams the file's {@code train} vectors in
 * over the flow-controlled bulk-ingest call (row i with id {@code prefix + i}, as {@code codebook
 * ingest} names them) and builds the index as a server job, following its progress, so the test
 * searches a known collection. All of loading sits in this one class.
 */
public final class CollectionLoader {

  /**
   * What was loaded.
   *
   * @param vectors vectors upserted
   * @param uploadSeconds time to send them
   * @param buildSeconds time to build the index (the server's own measure)
   * @param collection the collection after the build
   */
  public record Loaded(long vectors, double uploadSeconds, double buildSeconds,
      Collection collection) {}

  /** How long a build may take unless told otherwise. */
  public static final Duration DEFAULT_BUILD_TIMEOUT = Duration.ofHours(1);

  private final CodebookClient client;
  private final Consumer<String> progress;
  private final Duration buildTimeout;

  public CollectionLoader(CodebookClient client, Consumer<String> progress) {
    this(client, progress, DEFAULT_BUILD_TIMEOUT);
  }

  public CollectionLoader(CodebookClient client, Consumer<String> progress,
      Duration buildTimeout) {
    this.client = client;
    this.progress = progress;
    this.buildTimeout = buildTimeout;
  }

  /**
   * Creates {@code collection} with {@code spec}, streams {@code train} in, {@code batchSize}
   * vectors per message, and builds its index (waiting at most the build timeout).
   *
   * @param replace delete the collection first if it exists; otherwise an existing one is an
   *     error, so a test never mixes old vectors with new ones by accident
   */
  public Loaded load(String collection, FloatMatrix train, Similarity similarity, String spec,
      String idPrefix, int batchSize, long seed, boolean replace) {
    if (replace) {
      try {
        client.deleteCollection(collection);
        progress.accept("deleted the existing collections/" + collection);
      } catch (CodebookException e) {
        if (e.code() != Status.Code.NOT_FOUND) {
          throw e;
        }
      }
    }
    try {
      client.createCollection(collection, train.dim(), metric(similarity), spec);
    } catch (CodebookException e) {
      if (e.code() == Status.Code.ALREADY_EXISTS) {
        throw new IllegalArgumentException("collections/" + collection + " already exists; run"
            + " without --load to search it, or add --replace to delete and reload it");
      }
      throw e;
    }
    progress.accept(String.format(Locale.ROOT, "created collections/%s (%d dims, %s, %s);"
        + " uploading %,d vectors", collection, train.dim(), similarity.shortName(), spec,
        train.rows()));
    List<VectorRecord> records = new AbstractList<>() {
      @Override
      public VectorRecord get(int i) {
        return VectorRecord.of(idPrefix + i, train.row(i));
      }

      @Override
      public int size() {
        return train.rows();
      }
    };
    long t0 = System.nanoTime();
    long[] lastReport = {t0};
    UpsertResult r = client.streamUpsert(collection, records, batchSize,
        (batch, acknowledged, count) -> {
          long now = System.nanoTime();
          if (now - lastReport[0] > 1_000_000_000L || acknowledged == train.rows()) {
            lastReport[0] = now;
            progress.accept(String.format(Locale.ROOT, "streamed %,d/%,d vectors (%.1f s)",
                acknowledged, train.rows(), (now - t0) / 1e9));
          }
        });
    double upload = (System.nanoTime() - t0) / 1e9;
    Operation started = client.startBuildIndex(collection, seed);
    progress.accept("building the index " + spec + " as " + started.getName() + " ...");
    long[] lastPhase = {System.nanoTime()};
    Operation done = client.awaitOperation(started.getName(), buildTimeout, op -> {
      long now = System.nanoTime();
      if (!op.getDone() && now - lastPhase[0] > 1_000_000_000L) {
        lastPhase[0] = now;
        progress.accept(String.format(Locale.ROOT, "%s: %.0f%% %s", op.getName(),
            100 * op.getProgress(), op.getPhase()));
      }
    });
    BuildIndexResponse built = CodebookClient.resultOf(done);
    double build = built.getBuildDuration().getSeconds() + built.getBuildDuration().getNanos() / 1e9;
    progress.accept(String.format(Locale.ROOT, "built %s in %.1f s (trained on %,d vectors): %s",
        spec, build, built.getTrainingVectorCount(), built.getCollection().getState()));
    return new Loaded(r.upserted(), upload, build, built.getCollection());
  }

  static Metric metric(Similarity s) {
    return switch (s) {
      case COSINE -> Metric.COSINE;
      case DOT_PRODUCT -> Metric.DOT_PRODUCT;
      case EUCLIDEAN -> Metric.EUCLIDEAN;
    };
  }
}
