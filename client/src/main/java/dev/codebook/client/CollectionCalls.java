package dev.codebook.client;

import static dev.codebook.client.UnaryCalls.await;

import com.google.protobuf.Empty;
import dev.codebook.api.v1.BackupCollectionRequest;
import dev.codebook.api.v1.BackupCollectionResponse;
import dev.codebook.api.v1.BuildIndexRequest;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.CollectionServiceGrpc;
import dev.codebook.api.v1.CreateCollectionRequest;
import dev.codebook.api.v1.DeleteCollectionRequest;
import dev.codebook.api.v1.GetCollectionRequest;
import dev.codebook.api.v1.ListCollectionsRequest;
import dev.codebook.api.v1.ListCollectionsResponse;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.Operation;
import dev.codebook.api.v1.RestoreCollectionRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code CollectionService} calls. Reads are retried; create, delete, build, backup and restore
 * are not (a repeat could fail with ALREADY_EXISTS or NOT_FOUND after the first attempt
 * succeeded). Thread-safe.
 */
final class CollectionCalls {

  private final UnaryCalls calls;
  private final CollectionServiceGrpc.CollectionServiceStub stub;
  private final Duration deadline;
  private final Duration longDeadline;

  /**
   * @param deadline of each attempt of a call
   * @param longDeadline of a backup or restore, which copies a whole collection
   */
  CollectionCalls(UnaryCalls calls, Connection connection, Duration deadline,
      Duration longDeadline) {
    this.calls = calls;
    this.stub = CollectionServiceGrpc.newStub(connection.channel());
    this.deadline = deadline;
    this.longDeadline = longDeadline;
  }

  CompletableFuture<Collection> create(String id, int dimension, Metric metric, String indexSpec) {
    CreateCollectionRequest request = CreateCollectionRequest.newBuilder()
        .setCollectionId(Names.collectionId(id))
        .setCollection(Collection.newBuilder().setDimension(dimension).setMetric(metric)
            .setIndexSpec(indexSpec))
        .build();
    return calls.invoke(false, deadline, request,
        (d, q, o) -> stub.withDeadline(d).createCollection(q, o));
  }

  CompletableFuture<Collection> get(String collection) {
    GetCollectionRequest request =
        GetCollectionRequest.newBuilder().setName(Names.collection(collection)).build();
    return calls.invoke(true, deadline, request,
        (d, q, o) -> stub.withDeadline(d).getCollection(q, o));
  }

  List<Collection> list() {
    List<Collection> out = new ArrayList<>();
    String token = "";
    do {
      ListCollectionsRequest request = ListCollectionsRequest.newBuilder().setPageToken(token).build();
      ListCollectionsResponse page = await(calls.invoke(true, deadline, request,
          (d, q, o) -> stub.withDeadline(d).listCollections(q, o)));
      out.addAll(page.getCollectionsList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return out;
  }

  void delete(String collection) {
    DeleteCollectionRequest request =
        DeleteCollectionRequest.newBuilder().setName(Names.collection(collection)).build();
    CompletableFuture<Empty> f = calls.invoke(false, deadline, request,
        (d, q, o) -> stub.withDeadline(d).deleteCollection(q, o));
    await(f);
  }

  CompletableFuture<Operation> startBuild(String collection, long seed) {
    BuildIndexRequest request = BuildIndexRequest.newBuilder()
        .setName(Names.collection(collection)).setSeed(seed).build();
    return calls.invoke(false, deadline, request,
        (d, q, o) -> stub.withDeadline(d).buildIndex(q, o));
  }

  BackupCollectionResponse backup(String collection, String directory) {
    BackupCollectionRequest request = BackupCollectionRequest.newBuilder()
        .setName(Names.collection(collection)).setDirectory(directory).build();
    return await(calls.invoke(false, longDeadline, request,
        (d, q, o) -> stub.withDeadline(d).backupCollection(q, o)));
  }

  Collection restore(String collection, String directory) {
    RestoreCollectionRequest request = RestoreCollectionRequest.newBuilder()
        .setName(Names.collection(collection)).setDirectory(directory).build();
    return await(calls.invoke(false, longDeadline, request,
        (d, q, o) -> stub.withDeadline(d).restoreCollection(q, o)));
  }
}
