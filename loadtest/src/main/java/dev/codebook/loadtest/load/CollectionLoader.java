package dev.codebook.loadtest.load;

import dev.codebook.api.v1.BuildIndexResponse;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.Metric;
import dev.codebook.client.CodebookClient;
import dev.codebook.client.CodebookException;
import dev.codebook.client.UpsertResult;
import dev.codebook.client.VectorRecord;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import io.grpc.Status;
import java.util.AbstractList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * {@code loadtest --load}: creates the collection, sends the file's {@code train} vectors (row i
 * with id {@code prefix + i}, as {@code codebook ingest} names them) and builds the index, so the
 * test searches a known collection. Loading sits in this one class so it can move to the
 * streaming bulk-ingest RPC and the build job when those land; today it uses batched upserts
 * and the synchronous BuildIndex call.
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

  private final CodebookClient client;
  private final Consumer<String> progress;

  public CollectionLoader(CodebookClient client, Consumer<String> progress) {
    this.client = client;
    this.progress = progress;
  }

  /**
   * Creates {@code collection} with {@code spec}, upserts {@code train} in batches of {@code
   * batchSize} and builds its index.
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
    UpsertResult r = client.upsert(collection, records, batchSize, (batch, acknowledged, count) -> {
      long now = System.nanoTime();
      if (now - lastReport[0] > 1_000_000_000L || acknowledged == train.rows()) {
        lastReport[0] = now;
        progress.accept(String.format(Locale.ROOT, "uploaded %,d/%,d vectors (%.1f s)",
            acknowledged, train.rows(), (now - t0) / 1e9));
      }
    });
    double upload = (System.nanoTime() - t0) / 1e9;
    progress.accept("building the index " + spec + " ...");
    BuildIndexResponse built = client.buildIndex(collection, seed);
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
