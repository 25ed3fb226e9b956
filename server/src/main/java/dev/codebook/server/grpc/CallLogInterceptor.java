package dev.codebook.server.grpc;

import dev.codebook.server.metrics.ServerMetrics;
import io.grpc.ForwardingServerCall;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outermost interceptor: every call, including those refused by the draining and API-key
 * interceptors, is counted in {@link ServerMetrics} and logged as one structured line on logger
 * {@value #LOGGER} when it closes:
 *
 * <pre>request method=codebook.v1.SearchService/Search code=OK ms=1.234 peer=/127.0.0.1:50412</pre>
 *
 * <p>At DEBUG for every call; at WARN for the codes that mean the server failed (INTERNAL,
 * UNKNOWN, DATA_LOSS, UNIMPLEMENTED), with the status message. Client mistakes
 * (INVALID_ARGUMENT, NOT_FOUND, ...) and overload (RESOURCE_EXHAUSTED) stay at DEBUG: they are
 * answered, counted, and would flood the log under load.
 */
public final class CallLogInterceptor implements ServerInterceptor {

  /** The logger request lines go to. */
  public static final String LOGGER = "dev.codebook.server.requests";

  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

  /**
   * Header of the server's own warm-up calls ({@link dev.codebook.server.Warmup}): they are not
   * logged or counted as requests.
   */
  public static final Metadata.Key<String> WARMUP_HEADER =
      Metadata.Key.of("codebook-warmup", Metadata.ASCII_STRING_MARSHALLER);

  private static final Set<Status.Code> SERVER_FAULTS = EnumSet.of(Status.Code.INTERNAL,
      Status.Code.UNKNOWN, Status.Code.DATA_LOSS, Status.Code.UNIMPLEMENTED);

  private final ServerMetrics metrics;

  public CallLogInterceptor(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
      Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    if (headers.containsKey(WARMUP_HEADER)
        && call.getAttributes() != null && isLoopback(call.getAttributes().get(
            Grpc.TRANSPORT_ATTR_REMOTE_ADDR))) {
      return next.startCall(call, headers);
    }
    long start = System.nanoTime();
    String method = call.getMethodDescriptor().getFullMethodName();
    ServerCall<ReqT, RespT> timed = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        double seconds = (System.nanoTime() - start) / 1e9;
        metrics.request(method, status.getCode().name(), seconds);
        if (SERVER_FAULTS.contains(status.getCode())) {
          LOG.warn("request method={} code={} ms={} peer={} message=\"{}\"", method,
              status.getCode(), ms(seconds), peer(), status.getDescription());
        } else if (LOG.isDebugEnabled()) {
          LOG.debug("request method={} code={} ms={} peer={}", method, status.getCode(),
              ms(seconds), peer());
        }
        super.close(status, trailers);
      }

      private Object peer() {
        return getAttributes() == null ? null
            : getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
      }
    };
    return next.startCall(timed, headers);
  }

  private static boolean isLoopback(java.net.SocketAddress a) {
    return a instanceof java.net.InetSocketAddress i && i.getAddress() != null
        && i.getAddress().isLoopbackAddress();
  }

  private static String ms(double seconds) {
    return String.format(Locale.ROOT, "%.3f", seconds * 1000);
  }
}
