package dev.codebook.client;

import static dev.codebook.client.UnaryCalls.await;

import dev.codebook.api.v1.BuildIndexResponse;
import dev.codebook.api.v1.CancelOperationRequest;
import dev.codebook.api.v1.GetOperationRequest;
import dev.codebook.api.v1.ListOperationsRequest;
import dev.codebook.api.v1.ListOperationsResponse;
import dev.codebook.api.v1.Operation;
import dev.codebook.api.v1.OperationServiceGrpc;
import dev.codebook.api.v1.WaitOperationRequest;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code OperationService} calls: get, list, cancel, and following an operation to its end with
 * server-side long polls. All are retried (they change nothing, or ask again for the same
 * cancel). Thread-safe.
 */
final class OperationCalls {

  private final UnaryCalls calls;
  private final OperationServiceGrpc.OperationServiceStub stub;
  private final Duration deadline;

  OperationCalls(UnaryCalls calls, Connection connection, Duration deadline) {
    this.calls = calls;
    this.stub = OperationServiceGrpc.newStub(connection.channel());
    this.deadline = deadline;
  }

  Operation get(String operation) {
    GetOperationRequest request =
        GetOperationRequest.newBuilder().setName(Names.operation(operation)).build();
    return await(calls.invoke(true, deadline, request,
        (d, q, o) -> stub.withDeadline(d).getOperation(q, o)));
  }

  List<Operation> list(String collection) {
    ListOperationsRequest.Builder b = ListOperationsRequest.newBuilder().setPageSize(1000);
    if (collection != null) {
      b.setCollection(Names.collection(collection));
    }
    List<Operation> all = new ArrayList<>();
    while (true) {
      ListOperationsRequest request = b.build();
      ListOperationsResponse page = await(calls.invoke(true, deadline, request,
          (d, q, o) -> stub.withDeadline(d).listOperations(q, o)));
      all.addAll(page.getOperationsList());
      if (page.getNextPageToken().isEmpty()) {
        return all;
      }
      b.setPageToken(page.getNextPageToken());
    }
  }

  Operation cancel(String operation) {
    CancelOperationRequest request =
        CancelOperationRequest.newBuilder().setName(Names.operation(operation)).build();
    return await(calls.invoke(true, deadline, request,
        (d, q, o) -> stub.withDeadline(d).cancelOperation(q, o)));
  }

  Operation awaitDone(String operation, Duration max, Duration poll, Consumer<Operation> onUpdate) {
    String name = Names.operation(operation);
    long end = System.nanoTime() + max.toNanos();
    Operation op = get(name);
    while (true) {
      if (onUpdate != null) {
        onUpdate.accept(op);
      }
      long left = end - System.nanoTime();
      if (op.getDone() || left <= 0) {
        return op;
      }
      long waitMillis = Math.max(1, Math.min(poll.toMillis(), left / 1_000_000));
      WaitOperationRequest request = WaitOperationRequest.newBuilder().setName(name)
          .setTimeoutMillis(waitMillis).build();
      op = UnaryCalls.await(calls.invoke(true, deadline.plusMillis(waitMillis), request,
          (d, q, o) -> stub.withDeadline(d).waitOperation(q, o)));
    }
  }

  /** See {@link CodebookClient#resultOf}. */
  static BuildIndexResponse resultOf(Operation op) {
    switch (op.getState()) {
      case SUCCEEDED:
        return op.getBuildResult();
      case RUNNING:
        throw new CodebookException(Status.Code.DEADLINE_EXCEEDED, op.getName()
            + " is still running (" + op.getPhase() + "); wait longer or cancel it", 1, null);
      default:
        Status.Code code = op.hasError() ? Status.fromCodeValue(op.getError().getCode()).getCode()
            : Status.Code.UNKNOWN;
        throw new CodebookException(code, op.getName() + " " + op.getState() + ": "
            + op.getError().getMessage(), 1, null);
    }
  }
}
