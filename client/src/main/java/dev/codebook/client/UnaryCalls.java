package dev.codebook.client;

import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs unary calls under a {@link RetryPolicy}: each attempt with its own deadline, a failure
 * turned into a {@link CodebookException}, a caller's cancel passed on to the call in flight.
 * Thread-safe.
 */
final class UnaryCalls {

  /** One unary RPC started with a deadline. */
  @FunctionalInterface
  interface Rpc<Q, R> {
    void start(Deadline deadline, Q request, StreamObserver<R> observer);
  }

  private final Connection connection;
  private final RetryPolicy retries;

  UnaryCalls(Connection connection, RetryPolicy retries) {
    this.connection = connection;
    this.retries = retries;
  }

  RetryPolicy retries() {
    return retries;
  }

  /** Runs {@code rpc}, retrying it on UNAVAILABLE when {@code idempotent}. */
  <Q, R> CompletableFuture<R> invoke(boolean idempotent, Duration perAttempt, Q request,
      Rpc<Q, R> rpc) {
    CompletableFuture<R> result = new CompletableFuture<>();
    attempt(result, idempotent, perAttempt, request, rpc, 1);
    return result;
  }

  private <Q, R> void attempt(CompletableFuture<R> result, boolean idempotent, Duration perAttempt,
      Q request, Rpc<Q, R> rpc, int attempt) {
    if (result.isDone()) {
      return; // cancelled by the caller while waiting to retry
    }
    try {
      rpc.start(Deadline.after(perAttempt.toNanos(), TimeUnit.NANOSECONDS), request,
          new ClientResponseObserver<Q, R>() {
            private R value;

            @Override
            public void beforeStart(ClientCallStreamObserver<Q> call) {
              cancelWith(result, call);
            }

            @Override
            public void onNext(R r) {
              value = r;
            }

            @Override
            public void onError(Throwable t) {
              Status status = Status.fromThrowable(t);
              if (retries.retries(idempotent, status, attempt) && !result.isDone()
                  && connection.scheduleRetry(
                      () -> attempt(result, idempotent, perAttempt, request, rpc, attempt + 1),
                      retries.backoffNanos(attempt))) {
                return;
              }
              // not retried, or the client is closing: report the failure as it is
              result.completeExceptionally(CodebookException.of(status, attempt, t));
            }

            @Override
            public void onCompleted() {
              result.complete(value);
            }
          });
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
    }
  }

  /** Cancels {@code call} when the caller cancels {@code result}. */
  static void cancelWith(CompletableFuture<?> result, ClientCallStreamObserver<?> call) {
    result.whenComplete((v, t) -> {
      if (result.isCancelled()) {
        call.cancel("cancelled by the caller", null);
      }
    });
  }

  /** Waits for {@code f}, rethrowing its failure on the caller's stack. */
  static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new CodebookException(Status.Code.CANCELLED, "interrupted while waiting for the server",
          1, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof CodebookException ce) {
        throw new CodebookException(ce.code(), ce.description(), ce.attempts(), ce);
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(cause);
    }
  }
}
