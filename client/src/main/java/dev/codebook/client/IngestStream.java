package dev.codebook.client;

import dev.codebook.api.v1.StreamVectorsRequest;
import dev.codebook.api.v1.StreamVectorsResponse;
import dev.codebook.api.v1.VectorServiceGrpc;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One streamed bulk upsert ({@code StreamVectors}): batches written only while the stream is
 * ready (HTTP/2 flow control, so memory stays bounded however many records there are), an
 * acknowledgement counted per batch, and on UNAVAILABLE the stream re-opened from the first
 * unacknowledged record under the client's {@link RetryPolicy}. One deadline covers the whole
 * upsert, retries included.
 *
 * <p>Threading: the counters are written by one call's callbacks at a time (gRPC serializes
 * them, and a retry starts only after the failed call's last callback).
 */
final class IngestStream {

  private final CompletableFuture<UpsertResult> result = new CompletableFuture<>();
  private final Connection connection;
  private final RetryPolicy retries;
  private final VectorServiceGrpc.VectorServiceStub stub;
  private final String name;
  private final List<VectorRecord> records;
  private final int batchSize;
  private final CodebookClient.BatchListener listener;
  private final Deadline deadline;
  private int acknowledgedRecords;
  private long upserted;
  private long replaced;
  private long vectorCount;
  private int batches;

  private IngestStream(Connection connection, RetryPolicy retries,
      VectorServiceGrpc.VectorServiceStub stub, Duration streamDeadline, String collection,
      List<VectorRecord> records, int batchSize, CodebookClient.BatchListener listener) {
    this.connection = connection;
    this.retries = retries;
    this.stub = stub;
    this.name = Names.collection(collection);
    this.records = records;
    this.batchSize = batchSize;
    this.listener = listener;
    this.deadline = Deadline.after(streamDeadline.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Starts the upsert; the future completes with its totals or fails with a CodebookException. */
  static CompletableFuture<UpsertResult> start(Connection connection, RetryPolicy retries,
      VectorServiceGrpc.VectorServiceStub stub, Duration streamDeadline, String collection,
      List<VectorRecord> records, int batchSize, CodebookClient.BatchListener listener) {
    VectorCalls.checkUpsert(records, batchSize);
    IngestStream s = new IngestStream(connection, retries, stub, streamDeadline, collection,
        records, batchSize, listener);
    s.open(1);
    return s.result;
  }

  private void open(int attempt) {
    if (result.isDone()) {
      return;
    }
    int from = acknowledgedRecords;
    stub.withDeadline(deadline).streamVectors(
        new ClientResponseObserver<StreamVectorsRequest, StreamVectorsResponse>() {
          private ClientCallStreamObserver<StreamVectorsRequest> out;
          private final ArrayDeque<Integer> inFlight = new ArrayDeque<>();
          private int next = from;
          private boolean halfClosed;

          @Override
          public void beforeStart(ClientCallStreamObserver<StreamVectorsRequest> call) {
            out = call;
            call.setOnReadyHandler(this::drain);
            UnaryCalls.cancelWith(result, call);
          }

          /** Sends batches while the transport takes them; runs on each onReady. */
          private void drain() {
            while (!halfClosed && out.isReady() && next < records.size()) {
              int to = Math.min(records.size(), next + batchSize);
              StreamVectorsRequest.Builder b = StreamVectorsRequest.newBuilder();
              if (next == from) {
                b.setCollection(name);
              }
              for (int i = next; i < to; i++) {
                b.addVectors(records.get(i).toProto());
              }
              out.onNext(b.build());
              inFlight.add(to - next);
              next = to;
            }
            if (!halfClosed && next >= records.size()) {
              halfClosed = true;
              out.onCompleted();
            }
          }

          @Override
          public void onNext(StreamVectorsResponse ack) {
            Integer size = inFlight.poll();
            acknowledgedRecords += size == null ? 0 : size;
            upserted += ack.getUpsertedCount();
            replaced += ack.getReplacedCount();
            vectorCount = ack.getVectorCount();
            if (listener != null) {
              listener.acknowledged(batches, upserted, vectorCount);
            }
            batches++;
          }

          @Override
          public void onError(Throwable t) {
            Status status = Status.fromThrowable(t);
            if (retries.retries(true, status, attempt) && !result.isDone()
                && connection.scheduleRetry(() -> open(attempt + 1),
                    retries.backoffNanos(attempt))) {
              return;
            }
            // not retried, or the client is closing: report the failure as it is
            result.completeExceptionally(CodebookException.of(status, attempt, t));
          }

          @Override
          public void onCompleted() {
            result.complete(new UpsertResult(upserted, replaced, vectorCount, batches));
          }
        });
  }
}
