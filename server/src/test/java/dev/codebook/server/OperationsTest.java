package dev.codebook.server;

import static dev.codebook.server.ServerTestSupport.assertStatus;
import static dev.codebook.server.ServerTestSupport.buildAndWait;
import static dev.codebook.server.ServerTestSupport.create;
import static dev.codebook.server.ServerTestSupport.sample;
import static dev.codebook.server.ServerTestSupport.searchRequest;
import static dev.codebook.server.ServerTestSupport.upsertRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.api.v1.BuildIndexRequest;
import dev.codebook.api.v1.CancelOperationRequest;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.GetCollectionRequest;
import dev.codebook.api.v1.GetOperationRequest;
import dev.codebook.api.v1.ListOperationsRequest;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.Operation;
import dev.codebook.api.v1.UpsertVectorsRequest;
import dev.codebook.api.v1.WaitOperationRequest;
import dev.codebook.index.vector.FloatMatrix;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** BuildIndex as a long-running operation: progress, listing, waiting, cancelling. */
class OperationsTest {

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

  @Test
  void buildReturnsARunningOperationThatReportsProgressAndEndsWithTheResult() {
    String name = create(stubs, "progress", 384, Metric.COSINE, "IVF32,PQ48x4fs").getName();
    upsertRows(stubs, name, base, 0, base.rows());
    Operation op = stubs.collections().buildIndex(
        BuildIndexRequest.newBuilder().setName(name).setSeed(7).build());
    assertTrue(op.getName().startsWith("operations/"), op.getName());
    assertEquals(Operation.Kind.BUILD_INDEX, op.getKind());
    assertEquals(name, op.getCollection());
    assertTrue(op.hasStartTime());

    List<Operation> seen = new ArrayList<>();
    seen.add(op);
    while (!op.getDone()) {
      op = stubs.operations().waitOperation(WaitOperationRequest.newBuilder()
          .setName(op.getName()).setTimeoutMillis(50).build());
      seen.add(op);
    }
    assertEquals(Operation.State.SUCCEEDED, op.getState(), op::toString);
    assertEquals(1.0, op.getProgress());
    assertTrue(op.hasEndTime());
    assertFalse(op.hasError());
    assertEquals(base.rows(), op.getBuildResult().getTrainingVectorCount());
    assertEquals(Collection.State.READY, op.getBuildResult().getCollection().getState());
    for (int i = 1; i < seen.size(); i++) {
      assertTrue(seen.get(i).getProgress() >= seen.get(i - 1).getProgress(),
          "progress never goes back");
    }
    // Phases come from the trainers and the encoder, in order.
    assertTrue(seen.stream().anyMatch(o -> o.getPhase().startsWith("k-means")
        || o.getPhase().startsWith("PQ") || o.getPhase().startsWith("encode")),
        () -> seen.stream().map(Operation::getPhase).toList().toString());

    // Get and List see the same operation; List filters by collection.
    assertEquals(op, stubs.operations().getOperation(
        GetOperationRequest.newBuilder().setName(op.getName()).build()));
    String opName = op.getName();
    assertTrue(stubs.operations().listOperations(ListOperationsRequest.newBuilder()
        .setCollection(name).build()).getOperationsList().stream()
        .anyMatch(o -> o.getName().equals(opName)));
    assertTrue(stubs.operations().listOperations(ListOperationsRequest.newBuilder()
        .setCollection("collections/other").build()).getOperationsList().isEmpty());
    // Cancelling a finished operation changes nothing.
    assertEquals(Operation.State.SUCCEEDED, stubs.operations().cancelOperation(
        CancelOperationRequest.newBuilder().setName(opName).build()).getState());
  }

  @Test
  void cancelStopsTheTrainingAndKeepsThePreviousIndex() {
    // OPQ trains for many steps: enough time to cancel in the middle.
    String name = create(stubs, "cancel", 384, Metric.COSINE, "OPQ48,IVF64,PQ48").getName();
    upsertRows(stubs, name, base, 0, base.rows());
    Operation op = stubs.collections().buildIndex(
        BuildIndexRequest.newBuilder().setName(name).build());
    // Wait for the first trainer step, so the cancel lands inside training.
    while (op.getProgress() == 0 && !op.getDone()) {
      op = stubs.operations().waitOperation(WaitOperationRequest.newBuilder()
          .setName(op.getName()).setTimeoutMillis(20).build());
    }
    assertFalse(op.getDone(), "the build should still be training: " + op);
    // A second build of the same collection is refused while this one runs.
    assertStatus(Status.Code.FAILED_PRECONDITION, null, () -> stubs.collections().buildIndex(
        BuildIndexRequest.newBuilder().setName(name).build()));

    long cancelAt = System.nanoTime();
    Operation cancelling = stubs.operations().cancelOperation(
        CancelOperationRequest.newBuilder().setName(op.getName()).build());
    assertTrue(cancelling.getCancelRequested());
    while (!op.getDone()) {
      op = stubs.operations().waitOperation(WaitOperationRequest.newBuilder()
          .setName(op.getName()).setTimeoutMillis(1000).build());
    }
    double stopSeconds = (System.nanoTime() - cancelAt) / 1e9;
    assertEquals(Operation.State.CANCELLED, op.getState(), op::toString);
    assertEquals(Status.Code.CANCELLED.value(), op.getError().getCode());
    assertTrue(op.getProgress() < 1.0);
    assertTrue(stopSeconds < 5, "the training stopped at its next step, not at its end: "
        + stopSeconds + " s");
    // The collection is as before: untrained, exact, and can be built again.
    Collection c = stubs.collections().getCollection(
        GetCollectionRequest.newBuilder().setName(name).build());
    assertEquals(Collection.State.UNTRAINED, c.getState());
    assertEquals(10, stubs.search().search(searchRequest(name, base, 0, 1, 10).build())
        .getResults(0).getNeighborsCount());
    assertEquals(0, server.jobs().running());
  }

  @Test
  void anOpqBuildReportsProgressFromItsStartAndStopsWithinSecondsOfACancel() {
    // The sample four times over: 20,000 rows, on which the first PQ inside OPQ48 alone takes
    // seconds. A trainer that reports and polls only between OPQ's outer iterations shows 0%
    // all that time and finishes that PQ before it sees the cancel.
    String name = create(stubs, "opq-cancel", 384, Metric.COSINE, "OPQ48,IVF256,PQ48,RFlat")
        .getName();
    for (int copy = 0; copy < 4; copy++) {
      for (int b = 0; b < base.rows(); b += 1000) {
        UpsertVectorsRequest.Builder r = UpsertVectorsRequest.newBuilder().setCollection(name);
        for (int i = b; i < Math.min(base.rows(), b + 1000); i++) {
          r.addVectors(ServerTestSupport.vector(copy + "-" + i, base.row(i)));
        }
        stubs.vectors().upsertVectors(r.build());
      }
    }
    long start = System.nanoTime();
    Operation op = stubs.collections().buildIndex(
        BuildIndexRequest.newBuilder().setName(name).build());
    while (op.getProgress() == 0 && !op.getDone() && (System.nanoTime() - start) / 1e9 < 3) {
      op = stubs.operations().waitOperation(WaitOperationRequest.newBuilder()
          .setName(op.getName()).setTimeoutMillis(20).build());
    }
    assertFalse(op.getDone(), op::toString);
    assertTrue(op.getProgress() > 0 && op.getPhase().startsWith("OPQ48: "),
        "OPQ reports progress within 3 s of the start: " + op.getProgress() + " " + op.getPhase());

    long cancelAt = System.nanoTime();
    stubs.operations().cancelOperation(
        CancelOperationRequest.newBuilder().setName(op.getName()).build());
    while (!op.getDone()) {
      op = stubs.operations().waitOperation(WaitOperationRequest.newBuilder()
          .setName(op.getName()).setTimeoutMillis(1000).build());
    }
    double stopSeconds = (System.nanoTime() - cancelAt) / 1e9;
    assertEquals(Operation.State.CANCELLED, op.getState(), op::toString);
    assertTrue(op.getPhase().startsWith("OPQ48: "), "cancelled inside OPQ: " + op.getPhase());
    assertTrue(stopSeconds < 2, "stopped " + stopSeconds + " s after the cancel");
  }

  @Test
  void aGracefulShutdownCancelsRunningBuildsInsteadOfWaitingForThem() throws Exception {
    CodebookServer own = CodebookServer.start(ServerTestSupport.testConfig());
    ManagedChannel ch = ServerTestSupport.channel(own);
    try {
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      String name = create(s, "shutdown", 384, Metric.COSINE, "IVF256,PQ48").getName();
      upsertRows(s, name, base, 0, base.rows());
      Operation op = s.collections().buildIndex(
          BuildIndexRequest.newBuilder().setName(name).build());
      while (op.getProgress() == 0 && !op.getDone()) {
        op = s.operations().waitOperation(WaitOperationRequest.newBuilder()
            .setName(op.getName()).setTimeoutMillis(20).build());
      }
      assertFalse(op.getDone(), "the build should still be training: " + op);
      long t0 = System.nanoTime();
      assertTrue(own.shutdown(java.time.Duration.ofSeconds(30)), "drained cleanly");
      double seconds = (System.nanoTime() - t0) / 1e9;
      assertTrue(seconds < 5, "shutdown took " + seconds + " s");
      dev.codebook.server.job.Job job = own.jobs().get(op.getName().substring(
          "operations/".length()));
      assertEquals(dev.codebook.server.job.Job.State.CANCELLED, job.snapshot().state());
    } finally {
      ServerTestSupport.close(ch);
      own.close();
    }
  }

  @Test
  void listingPagesThroughOperationsNewestFirstWithTokens() {
    String name = create(stubs, "paged", 384, Metric.COSINE, "IVF4,PQ8x4fs").getName();
    upsertRows(stubs, name, base, 0, 1000);
    List<String> started = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Operation op = stubs.collections().buildIndex(
          BuildIndexRequest.newBuilder().setName(name).build());
      while (!op.getDone()) {
        op = stubs.operations().waitOperation(WaitOperationRequest.newBuilder()
            .setName(op.getName()).setTimeoutMillis(1000).build());
      }
      started.add(0, op.getName()); // newest first
    }
    ListOperationsRequest first = ListOperationsRequest.newBuilder().setCollection(name)
        .setPageSize(2).build();
    var page1 = stubs.operations().listOperations(first);
    assertEquals(started.subList(0, 2),
        page1.getOperationsList().stream().map(Operation::getName).toList());
    assertFalse(page1.getNextPageToken().isEmpty());
    var page2 = stubs.operations().listOperations(
        first.toBuilder().setPageToken(page1.getNextPageToken()).build());
    assertEquals(started.subList(2, 3),
        page2.getOperationsList().stream().map(Operation::getName).toList());
    assertTrue(page2.getNextPageToken().isEmpty(), "the last page has no token");
    assertStatus(Status.Code.INVALID_ARGUMENT, "page_token", () -> stubs.operations()
        .listOperations(first.toBuilder().setPageToken("not-a-token").build()));
  }

  @Test
  void unknownAndMalformedOperationNames() {
    io.grpc.StatusRuntimeException unknown = assertStatus(Status.Code.NOT_FOUND, null,
        () -> stubs.operations().getOperation(GetOperationRequest.newBuilder()
            .setName("operations/build-index-999999").build()));
    // Operations survive restarts (DurableCollectionsTest): the message must not say otherwise.
    String why = unknown.getStatus().getDescription();
    assertTrue(why.contains("never started") && why.contains("across restarts")
        && !why.contains("forgets them on restart"), why);
    assertStatus(Status.Code.NOT_FOUND, null, () -> stubs.operations().cancelOperation(
        CancelOperationRequest.newBuilder().setName("operations/build-index-999999").build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "name", () -> stubs.operations().getOperation(
        GetOperationRequest.newBuilder().setName("collections/x").build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "name", () -> stubs.operations().waitOperation(
        WaitOperationRequest.newBuilder().build()));
    assertStatus(Status.Code.NOT_FOUND, null, () -> buildAndWait(stubs, "collections/nope", 0));
  }
}
