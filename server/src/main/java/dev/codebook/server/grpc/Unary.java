package dev.codebook.server.grpc;

import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;

/** The one shape of a unary call: compute, then either respond or fail with a mapped status. */
final class Unary {

  private Unary() {}

  /**
   * Sends {@code body}'s response, or the status {@link StatusMapper} maps its exception to; never
   * both (nothing runs after {@code onError}).
   */
  static <T> void respond(StreamObserver<T> observer, Supplier<T> body) {
    T response;
    try {
      response = body.get();
    } catch (RuntimeException e) {
      observer.onError(StatusMapper.toStatusException(e));
      return;
    }
    observer.onNext(response);
    observer.onCompleted();
  }
}
