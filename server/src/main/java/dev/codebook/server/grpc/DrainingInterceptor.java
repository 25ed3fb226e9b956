package dev.codebook.server.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthGrpc;

/**
 * Turns away calls that start once a shutdown has begun, with UNAVAILABLE and a {@code
 * SERVER_DRAINING} reason, so clients retry elsewhere. gRPC stops accepting streams itself, but
 * a call can still slip in between the first GOAWAY and the last; it is refused here instead of
 * holding up the drain. Health checks pass through: they answer NOT_SERVING by then.
 */
public final class DrainingInterceptor implements ServerInterceptor {

  private volatile boolean draining;

  /** From now on, refuse new calls. */
  public void startDraining() {
    draining = true;
  }

  public boolean isDraining() {
    return draining;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
      Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    if (draining
        && !HealthGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName())) {
      StatusRuntimeException e = StatusMapper.draining();
      call.close(e.getStatus(), e.getTrailers() != null ? e.getTrailers() : new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }
}
