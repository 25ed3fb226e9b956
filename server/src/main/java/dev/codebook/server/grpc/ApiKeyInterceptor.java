package dev.codebook.server.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthGrpc;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Set;

/**
 * Lets a call through only with {@code authorization: Bearer KEY} for a configured key;
 * otherwise it is closed with UNAUTHENTICATED saying what was wrong (missing header, not a
 * bearer token, unknown key), before any request message is read. Health checks are exempt so
 * load balancers and orchestrators can probe without a key. Keys are compared in constant time.
 */
public final class ApiKeyInterceptor implements ServerInterceptor {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private static final String BEARER = "Bearer ";

  private final List<byte[]> keys;

  /** @param keys the accepted keys; at least one */
  public ApiKeyInterceptor(Set<String> keys) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("no API keys: leave the interceptor out instead");
    }
    this.keys = keys.stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
      Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    if (HealthGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers);
    }
    String problem = check(headers.get(AUTHORIZATION));
    if (problem != null) {
      StatusRuntimeException e = StatusMapper.unauthenticated(problem);
      call.close(e.getStatus(), e.getTrailers() != null ? e.getTrailers() : new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }

  /** Null if {@code header} carries an accepted key, else what is wrong with it. */
  private String check(String header) {
    if (header == null) {
      return "missing API key: this server requires 'authorization: Bearer <key>'"
          + " (bin/codebook --api-key or $CODEBOOK_API_KEY)";
    }
    if (!header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return "the authorization header is not a bearer token: expected 'Bearer <key>'";
    }
    byte[] given = header.substring(BEARER.length()).strip().getBytes(StandardCharsets.UTF_8);
    boolean ok = false;
    for (byte[] key : keys) {
      ok |= MessageDigest.isEqual(key, given);
    }
    return ok ? null : "API key not accepted by this server";
  }
}
