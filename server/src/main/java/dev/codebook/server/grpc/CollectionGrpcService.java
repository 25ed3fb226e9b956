package dev.codebook.server.grpc;

import com.google.protobuf.Empty;
import dev.codebook.api.v1.BackupCollectionRequest;
import dev.codebook.api.v1.BackupCollectionResponse;
import com.google.protobuf.Timestamp;
import dev.codebook.api.v1.BuildIndexRequest;
import dev.codebook.api.v1.BuildIndexResponse;
import dev.codebook.api.v1.CollectionServiceGrpc;
import dev.codebook.api.v1.CreateCollectionRequest;
import dev.codebook.api.v1.DeleteCollectionRequest;
import dev.codebook.api.v1.GetCollectionRequest;
import dev.codebook.api.v1.ListCollectionsRequest;
import dev.codebook.api.v1.ListCollectionsResponse;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.Operation;
import dev.codebook.api.v1.RestoreCollectionRequest;
import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.vector.Similarity;
import dev.codebook.server.collection.Collection;
import dev.codebook.server.collection.BackupLocations;
import dev.codebook.server.collection.CollectionRegistry;
import dev.codebook.server.collection.CollectionStateException;
import dev.codebook.server.collection.InvalidFieldException;
import dev.codebook.server.job.Job;
import dev.codebook.server.job.JobRegistry;
import io.grpc.stub.StreamObserver;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code codebook.v1.CollectionService}: create, get, list, delete, build, back up and restore
 * collections.
 */
public final class CollectionGrpcService extends CollectionServiceGrpc.CollectionServiceImplBase {

  private static final Logger LOG = LoggerFactory.getLogger(CollectionGrpcService.class);

  /** What this listing's page tokens start with. */
  private static final String TOKEN_PREFIX = "after:";

  private final CollectionRegistry registry;
  private final JobRegistry jobs;
  private final int buildThreads;
  private final BackupLocations backups;

  /**
   * @param jobs where BuildIndex runs its jobs
   * @param buildThreads threads one build trains with
   */
  public CollectionGrpcService(CollectionRegistry registry, JobRegistry jobs, int buildThreads,
      BackupLocations backups) {
    this.registry = registry;
    this.jobs = jobs;
    this.buildThreads = buildThreads;
    this.backups = backups;
  }

  @Override
  public void createCollection(CreateCollectionRequest request,
      StreamObserver<dev.codebook.api.v1.Collection> responseObserver) {
    Unary.respond(responseObserver, () -> {
      String id = Requests.newCollectionId("collection_id", request.getCollectionId());
      if (!request.hasCollection()) {
        throw new InvalidFieldException("collection", InvalidFieldException.MISSING_FIELD,
            "collection is required: set its dimension, metric and index_spec");
      }
      dev.codebook.api.v1.Collection c = request.getCollection();
      int dim = Requests.inRange("collection.dimension", c.getDimension(), 1,
          CollectionRegistry.MAX_DIMENSION);
      Similarity similarity = similarity(c.getMetric());
      IndexSpec spec = parseSpec(c.getIndexSpec(), dim);
      Collection created = registry.create(id, dim, similarity, spec);
      LOG.info("created {}", created);
      return toProto(created);
    });
  }

  @Override
  public void getCollection(GetCollectionRequest request,
      StreamObserver<dev.codebook.api.v1.Collection> responseObserver) {
    Unary.respond(responseObserver, () -> {
      return toProto(registry.get(Requests.collectionId("name", request.getName())));
    });
  }

  @Override
  public void listCollections(ListCollectionsRequest request,
      StreamObserver<ListCollectionsResponse> responseObserver) {
    Unary.respond(responseObserver, () -> {
      int pageSize = Paging.pageSize(request.getPageSize());
      String after = Paging.decode(TOKEN_PREFIX, request.getPageToken());
      List<CollectionRegistry.Listed> page = registry.listWithFailures(after, pageSize);
      ListCollectionsResponse.Builder b = ListCollectionsResponse.newBuilder();
      for (CollectionRegistry.Listed c : page) {
        b.addCollections(c.collection() != null ? toProto(c.collection())
            : dev.codebook.api.v1.Collection.newBuilder().setName(Collection.nameOf(c.id()))
                .setState(dev.codebook.api.v1.Collection.State.FAILED)
                .setFailure(c.failure().getMessage() == null ? c.failure().toString()
                    : c.failure().getMessage())
                .build());
      }
      if (page.size() == pageSize && registry.hasAfter(page.get(page.size() - 1).id())) {
        b.setNextPageToken(Paging.encode(TOKEN_PREFIX, page.get(page.size() - 1).id()));
      }
      return b.build();
    });
  }

  @Override
  public void deleteCollection(DeleteCollectionRequest request,
      StreamObserver<Empty> responseObserver) {
    try {
      String id = Requests.collectionId("name", request.getName());
      registry.delete(id);
      LOG.info("deleted {}", Collection.nameOf(id));
    } catch (RuntimeException e) {
      responseObserver.onError(StatusMapper.toStatusException(e));
      return;
    }
    responseObserver.onNext(Empty.getDefaultInstance());
    responseObserver.onCompleted();
  }

  /**
   * Starts the build as a job and answers with its operation at once. The obvious refusals (a
   * build running, too few vectors) are answered here, synchronously; the rest show up as the
   * operation's error.
   */
  @Override
  public void buildIndex(BuildIndexRequest request, StreamObserver<Operation> responseObserver) {
    Unary.respond(responseObserver, () -> {
      Collection c = registry.get(Requests.collectionId("name", request.getName()));
      long seed = request.getSeed() != 0 ? request.getSeed() : IndexFactory.DEFAULT_SEED;
      Collection.Info info = c.info();
      int min = Collection.minTrainingVectors(c.spec());
      if (info.vectorCount() < min) {
        throw new CollectionStateException(CollectionStateException.TOO_FEW_VECTORS,
            c.name() + " has " + info.vectorCount() + " vectors; " + c.spec()
                + " needs at least " + min + " to train on");
      }
      Job job = jobs.submit(Job.Kind.BUILD_INDEX, c.name(), buildPhases(c.spec()),
          j -> build(c, seed, j),
          () -> new CollectionStateException(CollectionStateException.BUILD_RUNNING,
              "a build of " + c.name() + " is already running; follow it with"
                  + " OperationService.ListOperations or wait for it"));
      LOG.info("{}: {} builds {} on {} vectors", c.name(), job.name(), c.spec(),
          info.vectorCount());
      return OperationGrpcService.toProto(job);
    });
  }

  /**
   * Copies a consistent snapshot of the collection into a directory on this server's filesystem;
   * runs on the calling gRPC thread (it is I/O bound and bounded by the collection's size).
   */
  @Override
  public void backupCollection(BackupCollectionRequest request,
      StreamObserver<BackupCollectionResponse> responseObserver) {
    Unary.respond(responseObserver, () -> {
      String id = Requests.collectionId("name", request.getName());
      registry.get(id); // NOT_FOUND before any directory is made
      Path dir = backups.backupTarget(directory(request.getDirectory()));
      long start = System.nanoTime();
      Collection.BackupResult r = registry.backup(id, dir);
      LOG.info("backed up {} to {}: {} vectors, {} files, {} bytes in {} ms",
          Collection.nameOf(id), dir, r.vectorCount(), r.files(), r.bytes(),
          (System.nanoTime() - start) / 1_000_000);
      return BackupCollectionResponse.newBuilder()
          .setName(Collection.nameOf(id))
          .setDirectory(dir.toString())
          .setFileCount(r.files())
          .setSizeBytes(r.bytes())
          .setVectorCount(r.vectorCount())
          .setManifestGeneration(r.manifestGeneration())
          .build();
    });
  }

  @Override
  public void restoreCollection(RestoreCollectionRequest request,
      StreamObserver<dev.codebook.api.v1.Collection> responseObserver) {
    Unary.respond(responseObserver, () -> {
      String id = Requests.collectionId("name", request.getName());
      return toProto(registry.restore(id,
          backups.restoreSource(directory(request.getDirectory()))));
    });
  }

  /** The request's directory: required, and absolute (it is a path on this server). */
  private static Path directory(String text) {
    if (text.isEmpty()) {
      throw new InvalidFieldException("directory", InvalidFieldException.MISSING_FIELD,
          "directory is required: an absolute path on the server's filesystem");
    }
    try {
      Path p = Path.of(text);
      if (!p.isAbsolute()) {
        throw new InvalidFieldException("directory", InvalidFieldException.INVALID_VALUE,
            "directory must be an absolute path on the server's filesystem, got '"
                + Requests.clip(text) + "'");
      }
      return p;
    } catch (InvalidPathException e) {
      throw new InvalidFieldException("directory", InvalidFieldException.INVALID_VALUE,
          "directory is not a valid path: " + e.getMessage());
    }
  }

  private BuildIndexResponse build(Collection c, long seed, Job job) {
    Collection.BuildResult r = c.build(new IndexFactory.BuildOptions(seed, buildThreads,
        line -> LOG.debug("{}: {}", c.name(), line), job, job::cancelRequested));
    LOG.info("{}: built {} from {} vectors in {} ms", c.name(), c.spec(), r.trainingVectors(),
        r.duration().toMillis());
    return BuildIndexResponse.newBuilder()
        .setCollection(toProto(c))
        .setTrainingVectorCount(r.trainingVectors())
        .setBuildDuration(com.google.protobuf.Duration.newBuilder()
            .setSeconds(r.duration().getSeconds()).setNanos(r.duration().getNano()))
        .build();
  }

  /** The task-name prefixes of a build's phases, in the order IndexFactory runs them. */
  static List<String> buildPhases(IndexSpec spec) {
    List<String> phases = new java.util.ArrayList<>();
    if (!spec.isFlat()) {
      if (spec.opqM() > 0) {
        phases.add("OPQ");
      }
      if (spec.hasIvf()) {
        phases.add("k-means");
      }
      phases.add("PQ");
    }
    phases.add(Collection.ENCODE_TASK);
    return phases;
  }

  /** The API view of a collection. */
  static dev.codebook.api.v1.Collection toProto(Collection c) {
    Collection.Info info = c.info();
    dev.codebook.api.v1.Collection.Builder b = dev.codebook.api.v1.Collection.newBuilder()
        .setName(c.name())
        .setDimension(c.dimension())
        .setMetric(metric(c.similarity()))
        .setIndexSpec(c.spec().toString())
        .setVectorCount(info.vectorCount())
        .setState(switch (info.state()) {
          case UNTRAINED -> dev.codebook.api.v1.Collection.State.UNTRAINED;
          case BUILDING -> dev.codebook.api.v1.Collection.State.BUILDING;
          case READY -> dev.codebook.api.v1.Collection.State.READY;
        })
        .setCreateTime(timestamp(c.createTime()));
    if (info.buildTime() != null) {
      b.setBuildTime(timestamp(info.buildTime()));
    }
    return b.build();
  }

  static Similarity similarity(Metric metric) {
    return switch (metric) {
      case DOT_PRODUCT -> Similarity.DOT_PRODUCT;
      case COSINE -> Similarity.COSINE;
      case EUCLIDEAN -> Similarity.EUCLIDEAN;
      case METRIC_UNSPECIFIED, UNRECOGNIZED -> throw new InvalidFieldException(
          "collection.metric", InvalidFieldException.MISSING_FIELD,
          "collection.metric is required: DOT_PRODUCT, COSINE or EUCLIDEAN");
    };
  }

  static Metric metric(Similarity similarity) {
    return switch (similarity) {
      case DOT_PRODUCT -> Metric.DOT_PRODUCT;
      case COSINE -> Metric.COSINE;
      case EUCLIDEAN -> Metric.EUCLIDEAN;
    };
  }

  /** Parses and checks an index spec against the dimension; errors name the field. */
  static IndexSpec parseSpec(String text, int dimension) {
    String field = "collection.index_spec";
    if (text.isBlank()) {
      throw new InvalidFieldException(field, InvalidFieldException.MISSING_FIELD,
          field + " is required, e.g. Flat, IVF256,PQ32 or IVF1024,PQ48x4fs,RFlat");
    }
    try {
      IndexSpec spec = IndexSpec.parse(text);
      spec.validateFor(dimension);
      Collection.checkBuildable(spec);
      return spec;
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      throw new InvalidFieldException(field, InvalidFieldException.INVALID_INDEX_SPEC,
          e.getMessage());
    }
  }

  private static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }
}
