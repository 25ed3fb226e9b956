package dev.codebook.client;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The transport of one client: a gRPC channel to the target, plaintext or TLS, with the API key
 * attached to every call, and the timer retries wait on. Owns both; {@link #close} ends them.
 */
final class Connection implements AutoCloseable {

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final ManagedChannel channel;
  private final ScheduledExecutorService retryTimer;

  Connection(CodebookClient.Builder b) {
    ChannelCredentials credentials;
    if (b.tls) {
      TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
      if (b.trustCertificates != null) {
        try {
          tls.trustManager(b.trustCertificates.toFile());
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read trust certificates " + b.trustCertificates, e);
        }
      }
      credentials = tls.build();
    } else {
      credentials = InsecureChannelCredentials.create();
    }
    NettyChannelBuilder cb = NettyChannelBuilder.forTarget(b.target, credentials)
        .maxInboundMessageSize(b.maxInboundMessageSize)
        .userAgent("codebook-client")
        // This client retries UNAVAILABLE itself (backoff, idempotent calls only); gRPC's own
        // retry layer would wrap every call in a stream that buffers its messages for a replay.
        .disableRetry();
    if (b.directExecutor) {
      cb.directExecutor();
    }
    if (b.eventLoopGroup != null) {
      cb.eventLoopGroup(b.eventLoopGroup).channelType(b.channelType);
    }
    if (b.apiKey != null) {
      Metadata headers = new Metadata();
      headers.put(AUTHORIZATION, "Bearer " + b.apiKey);
      cb.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    this.channel = cb.build();
    this.retryTimer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "codebook-client-retry");
      t.setDaemon(true);
      return t;
    });
  }

  ManagedChannel channel() {
    return channel;
  }

  /**
   * Runs {@code retry} after {@code nanos}, first resetting the channel's reconnect backoff so a
   * server that came back is found at once. False when the client is closing (nothing scheduled).
   */
  boolean scheduleRetry(Runnable retry, long nanos) {
    channel.resetConnectBackoff();
    try {
      retryTimer.schedule(retry, nanos, TimeUnit.NANOSECONDS);
      return true;
    } catch (RejectedExecutionException closed) {
      return false;
    }
  }

  /** Shuts the channel down, waiting up to five seconds for calls in flight. */
  @Override
  public void close() {
    retryTimer.shutdownNow();
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
