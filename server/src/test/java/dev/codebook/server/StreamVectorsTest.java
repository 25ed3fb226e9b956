package dev.codebook.server;

import static dev.codebook.server.ServerTestSupport.create;
import static dev.codebook.server.ServerTestSupport.sample;
import static dev.codebook.server.ServerTestSupport.unpack;
import static dev.codebook.server.ServerTestSupport.vector;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.BadRequest;
import dev.codebook.api.v1.GetCollectionRequest;
import dev.codebook.api.v1.GetVectorsRequest;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.StreamVectorsRequest;
import dev.codebook.api.v1.StreamVectorsResponse;
import dev.codebook.api.v1.VectorServiceGrpc;
import dev.codebook.index.vector.FloatMatrix;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** StreamVectors: batches in, one acknowledgement per applied batch out, flow-controlled. */
class StreamVectorsTest {

  static CodebookServer server;
  static ManagedChannel channel;
  static ServerTestSupport.Stubs stubs;
  static FloatMatrix base;

  @BeforeAll
  static void start() throws Exception {
    server = CodebookServer.start(ServerTestSupport.testConfig());
    channel = ServerTestSupport.channel(server);
    stubs = ServerTestSupport.Stubs.of(channel);
    base = sample().train();
  }

  @AfterAll
  static void stop() throws Exception {
    ServerTestSupport.close(channel);
    server.close();
  }

  /** What a stream got back: its acknowledgements and how it ended. */
  record Outcome(List<StreamVectorsResponse> acks, Throwable error, int notReady) {}

  /**
   * Streams {@code batches} batches made by {@code batch}, writing only while the stream is
   * ready, as a well-behaved client does.
   */
  static Outcome stream(int batches, IntFunction<StreamVectorsRequest> batch) throws Exception {
    List<StreamVectorsResponse> acks = new ArrayList<>();
    CompletableFuture<Throwable> end = new CompletableFuture<>();
    int[] notReady = {0};
    VectorServiceGrpc.newStub(channel).withDeadline(
            io.grpc.Deadline.after(60, TimeUnit.SECONDS))
        .streamVectors(new ClientResponseObserver<StreamVectorsRequest, StreamVectorsResponse>() {
          int next;
          boolean closed;

          @Override
          public void beforeStart(ClientCallStreamObserver<StreamVectorsRequest> out) {
            out.setOnReadyHandler(() -> {
              while (out.isReady() && next < batches) {
                out.onNext(batch.apply(next++));
              }
              if (next < batches) {
                notReady[0]++;
              } else if (!closed) {
                closed = true;
                out.onCompleted();
              }
            });
          }

          @Override
          public void onNext(StreamVectorsResponse r) {
            acks.add(r);
          }

          @Override
          public void onError(Throwable t) {
            end.complete(t);
          }

          @Override
          public void onCompleted() {
            end.complete(null);
          }
        });
    Throwable error = end.get(60, TimeUnit.SECONDS);
    return new Outcome(acks, error, notReady[0]);
  }

  static StreamVectorsRequest rows(String collection, int from, int to) {
    StreamVectorsRequest.Builder b = StreamVectorsRequest.newBuilder().setCollection(collection);
    for (int i = from; i < to; i++) {
      b.addVectors(vector("v" + i, base.row(i)));
    }
    return b.build();
  }

  @Test
  void everyBatchIsAppliedInOrderAndAcknowledgedWithTheRunningCount() throws Exception {
    String name = create(stubs, "stream", 384, Metric.COSINE, "Flat").getName();
    int batch = 250;
    int batches = base.rows() / batch;
    // Only the first batch names the collection; the rest inherit it.
    Outcome o = stream(batches, b -> {
      StreamVectorsRequest r = rows(name, b * batch, (b + 1) * batch);
      return b == 0 ? r : r.toBuilder().clearCollection().build();
    });
    assertEquals(null, o.error());
    assertEquals(batches, o.acks().size());
    for (int b = 0; b < batches; b++) {
      StreamVectorsResponse ack = o.acks().get(b);
      assertEquals(b, ack.getBatch());
      assertEquals(batch, ack.getUpsertedCount());
      assertEquals((long) batch * (b + 1), ack.getAcknowledged());
      assertEquals((long) batch * (b + 1), ack.getVectorCount());
    }
    assertEquals(base.rows(), stubs.collections().getCollection(
        GetCollectionRequest.newBuilder().setName(name).build()).getVectorCount());
    float[] got = toArray(stubs.vectors().getVectors(GetVectorsRequest.newBuilder()
        .setCollection(name).addIds("v4321").build()).getVectors(0).getValuesList());
    assertArrayEquals(base.row(4321), got);
  }

  @Test
  void aBadBatchEndsTheStreamNamingItsFieldAndKeepsTheBatchesBefore() throws Exception {
    String name = create(stubs, "stream-bad", 384, Metric.COSINE, "Flat").getName();
    Outcome o = stream(6, b -> {
      StreamVectorsRequest r = rows(name, b * 100, (b + 1) * 100);
      if (b == 3) {
        float[] nan = base.row(0).clone();
        nan[5] = Float.NaN;
        r = r.toBuilder().setVectors(2, vector("nan", nan)).build();
      }
      return r;
    });
    assertNotNull(o.error());
    assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(o.error()).getCode());
    BadRequest br = unpack(StatusProto.fromThrowable(o.error()), BadRequest.class);
    assertEquals("batches[3].vectors[2].values", br.getFieldViolations(0).getField());
    assertEquals(3, o.acks().size(), "batches 0 to 2 were acknowledged");
    assertEquals(300, stubs.collections().getCollection(
        GetCollectionRequest.newBuilder().setName(name).build()).getVectorCount());
  }

  @Test
  void theFirstBatchMustNameAnExistingCollectionAndLaterOnesTheSame() throws Exception {
    Outcome o = stream(1, b -> rows("", 0, 10));
    assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(o.error()).getCode());
    assertTrue(Status.fromThrowable(o.error()).getDescription().contains("batches[0].collection"));
    o = stream(1, b -> rows("collections/no-such", 0, 10));
    assertEquals(Status.Code.NOT_FOUND, Status.fromThrowable(o.error()).getCode());
    String name = create(stubs, "stream-two", 384, Metric.COSINE, "Flat").getName();
    o = stream(2, b -> rows(b == 0 ? name : "collections/other", b * 10, (b + 1) * 10));
    assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(o.error()).getCode());
    assertEquals(1, o.acks().size());
  }

  @Test
  void aClientFasterThanTheServerIsHeldBackByFlowControl() throws Exception {
    // 20 batches of 1,000 vectors (about 1.6 MB each) overrun the HTTP/2 window (1 MiB) while
    // the server reads one batch at a time: the stream stops being ready and the client waits.
    String name = create(stubs, "stream-flow", 384, Metric.COSINE, "Flat").getName();
    Outcome o = stream(20, b -> rows(name, (b % 5) * 1000, (b % 5 + 1) * 1000));
    assertEquals(null, o.error());
    assertEquals(20, o.acks().size());
    assertTrue(o.notReady() > 0, "the stream was not ready at some point");
    assertEquals(20_000, o.acks().get(19).getAcknowledged());
    assertEquals(5_000, o.acks().get(19).getVectorCount(), "ids repeat: replaced, not added");
  }

  @Test
  void aBatchOverTheMessageLimitIsResourceExhaustedAndTheServerServesOn() throws Exception {
    ServerConfig small = ServerTestSupport.testConfig().toBuilder()
        .maxInboundMessageSize(1 << 20).build();
    try (CodebookServer limited = CodebookServer.start(small)) {
      ManagedChannel ch = ServerTestSupport.channel(limited);
      try {
        ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
        String name = create(s, "limited", 384, Metric.COSINE, "Flat").getName();
        // 1,000 vectors of 384 floats: about 1.6 MB, over the 1 MiB limit.
        StreamVectorsRequest big = rows(name, 0, 1000);
        assertTrue(big.getSerializedSize() > 1 << 20);
        CompletableFuture<Throwable> end = new CompletableFuture<>();
        var call = VectorServiceGrpc.newStub(ch).streamVectors(
            new io.grpc.stub.StreamObserver<StreamVectorsResponse>() {
              @Override
              public void onNext(StreamVectorsResponse r) {}

              @Override
              public void onError(Throwable t) {
                end.complete(t);
              }

              @Override
              public void onCompleted() {
                end.complete(null);
              }
            });
        call.onNext(big);
        call.onCompleted();
        Throwable t = end.get(30, TimeUnit.SECONDS);
        assertNotNull(t);
        Status status = Status.fromThrowable(t);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
        assertTrue(status.getDescription().contains("exceeds maximum size"),
            status.getDescription());
        // A batch under the limit goes through on the same server.
        s.vectors().upsertVectors(dev.codebook.api.v1.UpsertVectorsRequest.newBuilder()
            .setCollection(name).addAllVectors(rows(name, 0, 100).getVectorsList()).build());
        assertEquals(100, s.collections().getCollection(
            GetCollectionRequest.newBuilder().setName(name).build()).getVectorCount());
      } finally {
        ServerTestSupport.close(ch);
      }
    }
  }

  static float[] toArray(List<Float> values) {
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }
}
