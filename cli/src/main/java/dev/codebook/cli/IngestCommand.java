package dev.codebook.cli;

import dev.codebook.api.v1.Collection;
import dev.codebook.client.CodebookClient;
import dev.codebook.client.CodebookException;
import dev.codebook.client.UpsertResult;
import dev.codebook.client.VectorRecord;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import dev.codebook.index.vector.VectorFiles;
import dev.codebook.loadtest.cli.CollectionOption;
import dev.codebook.loadtest.cli.Defaults;
import dev.codebook.loadtest.cli.MetricConverter;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code codebook ingest}: upsert a file's vectors into a collection, batch by batch. */
@Command(name = "ingest", mixinStandardHelpOptions = true,
    header = "Upload the vectors of a file into a collection on a server.",
    description = "Upserts the vectors of a file (ann-benchmarks .hdf5 'train', .fvecs, .bvecs,"
        + " .npy) into a collection, row i with id PREFIX + i, over one flow-controlled"
        + " StreamVectors call. With --json, prints one JSON line per acknowledged batch with the"
        + " cumulative 'acknowledged' count; otherwise a progress bar on stderr.")
public final class IngestCommand implements Callable<Integer> {

  @Mixin ClientOptions client;

  @Mixin CollectionOption collection;

  @Option(names = "--create",
      description = "Create the collection first (dimension from the file); an existing one of the"
          + " same dimension is used as is.")
  boolean create;

  @Option(names = "--metric", paramLabel = "METRIC", defaultValue = Defaults.METRIC,
      converter = MetricConverter.class,
      description = "With --create: " + MetricConverter.NAMES + " (default: ${DEFAULT-VALUE}).")
  Similarity metric;

  @Option(names = "--index", paramLabel = "SPEC", defaultValue = Defaults.INDEX,
      description = "With --create: the index spec (default: ${DEFAULT-VALUE}).")
  String index;

  @Option(names = "--data", required = true, paramLabel = "FILE",
      description = "Vectors: " + VectorFiles.SUPPORTED + " (HDF5: the train dataset).")
  Path data;

  @Option(names = "--id-prefix", paramLabel = "P", defaultValue = "",
      description = "Prefix of the ids, which end in the row number (default: none).")
  String idPrefix;

  @Option(names = "--limit", paramLabel = "N", description = "Ingest only the first N rows.")
  Integer limit;

  @Option(names = "--batch", paramLabel = "N", defaultValue = "" + CodebookClient.DEFAULT_BATCH_SIZE,
      description = "Vectors per request (default: ${DEFAULT-VALUE}).")
  int batch;

  @Override
  public Integer call() throws IOException {
    if (batch <= 0) {
      throw new IllegalArgumentException("--batch must be positive, got " + batch);
    }
    if (limit != null && limit <= 0) {
      throw new IllegalArgumentException("--limit must be positive, got " + limit);
    }
    FloatMatrix m = VectorFiles.readVectors(data);
    int rows = limit == null ? m.rows() : Math.min(limit, m.rows());
    if (rows == 0) {
      throw new IllegalArgumentException(data + " holds no vectors");
    }
    try (CodebookClient c = client.connect()) {
      if (create) {
        create(c, m.dim());
      }
      List<VectorRecord> records = new AbstractList<>() {
        @Override
        public VectorRecord get(int i) {
          return VectorRecord.of(idPrefix + i, m.row(i));
        }

        @Override
        public int size() {
          return rows;
        }
      };
      long t0 = System.nanoTime();
      ProgressBar progress = client.json ? null : new ProgressBar(System.err, "ingest");
      UpsertResult r = c.streamUpsert(collection.collection(), records, batch, (b, acknowledged, count) -> {
        double s = (System.nanoTime() - t0) / 1e9;
        if (client.json) {
          Map<String, Object> line = new LinkedHashMap<>();
          line.put("collection", "collections/" + ClientOptions.id(collection.collection()));
          line.put("batch", b);
          line.put("acknowledged", acknowledged);
          line.put("total", rows);
          line.put("vector_count", count);
          line.put("elapsed_s", Math.round(s * 1000) / 1000.0);
          client.printJson(line);
          System.out.flush();
        } else {
          progress.update((double) acknowledged / rows, String.format(
              "%,d/%,d %,.0f vectors/s", acknowledged, rows, acknowledged / Math.max(s, 1e-9)),
              acknowledged == rows);
        }
      });
      if (progress != null) {
        progress.finish();
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("ingested %,d vectors into collections/%s in %.1f s (%,.0f vectors/s);"
                + " %,d replaced; the collection holds %,d%n", r.upserted(),
            ClientOptions.id(collection.collection()), s, r.upserted() / Math.max(s, 1e-9), r.replaced(),
            r.vectorCount());
      }
    }
    return 0;
  }

  private void create(CodebookClient c, int dim) {
    try {
      c.createCollection(collection.collection(), dim, ClientOptions.metric(metric), index);
      if (!client.json) {
        System.err.println("[ingest] created collections/" + ClientOptions.id(collection.collection()) + " ("
            + dim + " dims, " + metric.shortName() + ", " + index + ")");
      }
    } catch (CodebookException e) {
      if (e.code() != Status.Code.ALREADY_EXISTS) {
        throw e;
      }
      Collection existing = c.getCollection(collection.collection());
      if (existing.getDimension() != dim) {
        throw new IllegalArgumentException("collections/" + ClientOptions.id(collection.collection())
            + " exists with dimension " + existing.getDimension() + ", but " + data + " has " + dim);
      }
      if (!client.json) {
        System.err.println("[ingest] collections/" + ClientOptions.id(collection.collection())
            + " exists; adding to it");
      }
    }
  }
}
