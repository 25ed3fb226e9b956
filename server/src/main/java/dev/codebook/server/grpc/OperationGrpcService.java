package dev.codebook.server.grpc;

import com.google.protobuf.Timestamp;
import dev.codebook.api.v1.BuildIndexResponse;
import dev.codebook.api.v1.CancelOperationRequest;
import dev.codebook.api.v1.GetOperationRequest;
import dev.codebook.api.v1.ListOperationsRequest;
import dev.codebook.api.v1.ListOperationsResponse;
import dev.codebook.api.v1.Operation;
import dev.codebook.api.v1.OperationServiceGrpc;
import dev.codebook.api.v1.WaitOperationRequest;
import dev.codebook.server.collection.InvalidFieldException;
import dev.codebook.server.job.Job;
import dev.codebook.server.job.JobNotFoundException;
import dev.codebook.server.job.JobRegistry;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** {@code codebook.v1.OperationService}: get, list, cancel and wait for background jobs. */
public final class OperationGrpcService extends OperationServiceGrpc.OperationServiceImplBase {

  /** WaitOperation's wait when the request leaves timeout_millis 0. */
  static final long DEFAULT_WAIT_MILLIS = 30_000;

  /** WaitOperation's longest wait. */
  static final long MAX_WAIT_MILLIS = 600_000;

  private static final Pattern ID = Pattern.compile("[a-z0-9-]{1,64}");

  private final JobRegistry jobs;
  private final OperationLog log;

  /** @param log earlier runs' operations, answered for when {@code jobs} does not know a name */
  public OperationGrpcService(JobRegistry jobs, OperationLog log) {
    this.jobs = jobs;
    this.log = log;
  }

  /** This run's job, or null with the earlier run's operation in {@code restored[0]}. */
  private Job find(String name, Operation[] restored) {
    String id = operationId(name);
    try {
      return jobs.get(id);
    } catch (JobNotFoundException e) {
      Operation op = log.restored(Job.NAME_PREFIX + id);
      if (op == null) {
        throw e;
      }
      restored[0] = op;
      return null;
    }
  }

  @Override
  public void getOperation(GetOperationRequest request, StreamObserver<Operation> observer) {
    Unary.respond(observer, () -> {
      Operation[] restored = new Operation[1];
      Job job = find(request.getName(), restored);
      return job != null ? toProto(job) : restored[0];
    });
  }

  @Override
  public void listOperations(ListOperationsRequest request,
      StreamObserver<ListOperationsResponse> observer) {
    Unary.respond(observer, () -> {
      int size = Paging.pageSize(request.getPageSize());
      String collection = request.getCollection().isEmpty() ? null
          : dev.codebook.server.collection.Collection.nameOf(
              Requests.collectionId("collection", request.getCollection()));
      long before = pageBefore(request.getPageToken());
      // One more than the page: whether an older job follows decides the next page's token.
      // This run's jobs are numbered after every earlier run's: they come first.
      List<Operation> page = new java.util.ArrayList<>();
      for (Job j : jobs.list(collection, before, size + 1)) {
        page.add(toProto(j));
      }
      if (page.size() <= size) {
        long below = page.isEmpty() ? before : OperationLog.sequenceOf(page.get(page.size() - 1));
        page.addAll(log.restored(collection, below, size + 1 - page.size()));
      }
      ListOperationsResponse.Builder b = ListOperationsResponse.newBuilder();
      b.addAllOperations(page.subList(0, Math.min(size, page.size())));
      if (page.size() > size) {
        b.setNextPageToken(Paging.encode(TOKEN_PREFIX,
            Long.toString(OperationLog.sequenceOf(page.get(size - 1)))));
      }
      return b.build();
    });
  }

  @Override
  public void cancelOperation(CancelOperationRequest request, StreamObserver<Operation> observer) {
    Unary.respond(observer, () -> {
      Operation[] restored = new Operation[1];
      Job job = find(request.getName(), restored);
      // An earlier run's operation is final: cancelling it leaves it as it is.
      return job != null ? toProto(jobs.cancel(job.id())) : restored[0];
    });
  }

  /**
   * Answers when the job completes or the wait ends, without holding a thread meanwhile (so a
   * graceful shutdown, which cancels jobs first, is not held up by waiters).
   */
  @Override
  public void waitOperation(WaitOperationRequest request, StreamObserver<Operation> observer) {
    Context context = Context.current();
    Job job;
    long wait;
    try {
      Operation[] restored = new Operation[1];
      job = find(request.getName(), restored);
      long t = request.getTimeoutMillis();
      if (t < 0 || t > MAX_WAIT_MILLIS) {
        throw new InvalidFieldException("timeout_millis", InvalidFieldException.OUT_OF_RANGE,
            "timeout_millis must be 0 (the default, " + DEFAULT_WAIT_MILLIS + ") to "
                + MAX_WAIT_MILLIS + ", got " + t);
      }
      if (job == null) {
        observer.onNext(restored[0]); // an earlier run's operation is final: nothing to wait for
        observer.onCompleted();
        return;
      }
      wait = t == 0 ? DEFAULT_WAIT_MILLIS : t;
      Deadline deadline = context.getDeadline();
      if (deadline != null) {
        // Answer a little before the caller gives up, so it gets the state rather than an error.
        long left = deadline.timeRemaining(TimeUnit.MILLISECONDS);
        wait = Math.max(0, Math.min(wait, left - Math.min(200, left / 10)));
      }
    } catch (RuntimeException e) {
      observer.onError(StatusMapper.toStatusException(e));
      return;
    }
    CompletableFuture<Object> timer = new CompletableFuture<>();
    CompletableFuture.delayedExecutor(wait, TimeUnit.MILLISECONDS)
        .execute(() -> timer.complete(null));
    CompletableFuture.anyOf(job.completion(), timer).whenComplete((v, t) -> {
      // Runs on the job's or the timer's thread: the call's own context says if it is over.
      if (context.isCancelled()) {
        return;
      }
      try {
        observer.onNext(toProto(job));
        observer.onCompleted();
      } catch (RuntimeException e) {
        // the call was cancelled meanwhile: nobody to answer
      }
    });
  }

  /** The id in an {@code operations/{id}} name. */
  static String operationId(String name) {
    if (name.isEmpty()) {
      throw new InvalidFieldException("name", InvalidFieldException.MISSING_FIELD,
          "name is required: an operation name like 'operations/build-index-1'");
    }
    String id = name.startsWith(Job.NAME_PREFIX) ? name.substring(Job.NAME_PREFIX.length()) : "";
    if (!ID.matcher(id).matches()) {
      throw new InvalidFieldException("name", InvalidFieldException.INVALID_NAME,
          "name: expected an operation name like 'operations/build-index-1', got '"
              + Requests.clip(name) + "'");
    }
    return id;
  }

  /** The API view of a job. */
  public static Operation toProto(Job job) {
    Job.Snapshot s = job.snapshot();
    Operation.Builder b = Operation.newBuilder()
        .setName(job.name())
        .setCollection(job.collection())
        .setKind(switch (job.kind()) {
          case BUILD_INDEX -> Operation.Kind.BUILD_INDEX;
        })
        .setState(switch (s.state()) {
          case RUNNING -> Operation.State.RUNNING;
          case SUCCEEDED -> Operation.State.SUCCEEDED;
          case FAILED -> Operation.State.FAILED;
          case CANCELLED -> Operation.State.CANCELLED;
        })
        .setDone(s.done())
        .setProgress(s.progress())
        .setPhase(s.phase())
        .setStartTime(timestamp(job.startTime()))
        .setCancelRequested(s.cancelRequested());
    if (s.endTime() != null) {
      b.setEndTime(timestamp(s.endTime()));
    }
    if (s.error() != null) {
      b.setError(s.state() == Job.State.CANCELLED
          ? com.google.rpc.Status.newBuilder().setCode(com.google.rpc.Code.CANCELLED_VALUE)
              .setMessage("operation cancelled: " + s.error().getMessage()).build()
          : StatusMapper.toStatus(s.error()));
    }
    if (s.result() instanceof BuildIndexResponse r) {
      b.setBuildResult(r);
    }
    return b.build();
  }

  static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  /** What this listing's page tokens start with; they carry the job number to list below. */
  private static final String TOKEN_PREFIX = "ops-before:";

  /** The job number a page token continues below; Long.MAX_VALUE for the first page. */
  private static long pageBefore(String token) {
    String before = Paging.decode(TOKEN_PREFIX, token);
    if (before == null) {
      return Long.MAX_VALUE;
    }
    try {
      return Long.parseLong(before);
    } catch (NumberFormatException e) {
      throw Paging.foreignToken();
    }
  }
}
