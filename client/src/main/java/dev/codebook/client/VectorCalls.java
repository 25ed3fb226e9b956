package dev.codebook.client;

import static dev.codebook.client.UnaryCalls.await;

import dev.codebook.api.v1.DeleteVectorsRequest;
import dev.codebook.api.v1.DeleteVectorsResponse;
import dev.codebook.api.v1.GetVectorsRequest;
import dev.codebook.api.v1.GetVectorsResponse;
import dev.codebook.api.v1.UpsertVectorsRequest;
import dev.codebook.api.v1.UpsertVectorsResponse;
import dev.codebook.api.v1.VectorServiceGrpc;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code VectorService} unary calls: upsert in batches (one request after the other, each
 * retried: upserts are idempotent by id), delete, get. The streamed bulk upsert is {@link
 * IngestStream}. Thread-safe.
 */
final class VectorCalls {

  private final UnaryCalls calls;
  private final VectorServiceGrpc.VectorServiceStub stub;
  private final Duration deadline;

  VectorCalls(UnaryCalls calls, Connection connection, Duration deadline) {
    this.calls = calls;
    this.stub = VectorServiceGrpc.newStub(connection.channel());
    this.deadline = deadline;
  }

  VectorServiceGrpc.VectorServiceStub stub() {
    return stub;
  }

  /** Checks what every upsert form asks of its arguments. */
  static void checkUpsert(List<VectorRecord> records, int batchSize) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
    }
    if (records.isEmpty()) {
      throw new IllegalArgumentException("nothing to upsert: records is empty");
    }
  }

  CompletableFuture<UpsertResult> upsert(String collection, List<VectorRecord> records,
      int batchSize, CodebookClient.BatchListener listener) {
    checkUpsert(records, batchSize);
    return upsertFrom(Names.collection(collection), records, batchSize, listener, 0,
        new UpsertResult(0, 0, 0, 0));
  }

  private CompletableFuture<UpsertResult> upsertFrom(String name, List<VectorRecord> records,
      int batchSize, CodebookClient.BatchListener listener, int from, UpsertResult sofar) {
    int to = Math.min(records.size(), from + batchSize);
    UpsertVectorsRequest.Builder b = UpsertVectorsRequest.newBuilder().setCollection(name);
    for (int i = from; i < to; i++) {
      b.addVectors(records.get(i).toProto());
    }
    CompletableFuture<UpsertVectorsResponse> batch =
        calls.invoke(true, deadline, b.build(), (d, q, o) -> stub.withDeadline(d).upsertVectors(q, o));
    return batch.thenCompose(r -> {
      UpsertResult now = new UpsertResult(sofar.upserted() + r.getUpsertedCount(),
          sofar.replaced() + r.getReplacedCount(), r.getVectorCount(), sofar.batches() + 1);
      if (listener != null) {
        listener.acknowledged(sofar.batches(), now.upserted(), now.vectorCount());
      }
      return to < records.size()
          ? upsertFrom(name, records, batchSize, listener, to, now)
          : CompletableFuture.completedFuture(now);
    });
  }

  long delete(String collection, List<String> ids, boolean allowMissing) {
    DeleteVectorsRequest request = DeleteVectorsRequest.newBuilder()
        .setCollection(Names.collection(collection)).addAllIds(ids).setAllowMissing(allowMissing)
        .build();
    DeleteVectorsResponse r = await(calls.invoke(allowMissing, deadline, request,
        (d, q, o) -> stub.withDeadline(d).deleteVectors(q, o)));
    return r.getDeletedCount();
  }

  List<VectorRecord> get(String collection, List<String> ids) {
    GetVectorsRequest request = GetVectorsRequest.newBuilder()
        .setCollection(Names.collection(collection)).addAllIds(ids).build();
    GetVectorsResponse r = await(calls.invoke(true, deadline, request,
        (d, q, o) -> stub.withDeadline(d).getVectors(q, o)));
    return r.getVectorsList().stream().map(VectorRecord::fromProto).toList();
  }
}
