package dev.codebook.server;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link CodebookServer} listens, how much work it admits and how it shuts down. The
 * defaults are safe for a laptop: loopback only, one search thread per core, a bounded queue.
 *
 * @param host address to bind; {@value #DEFAULT_HOST} (loopback) by default
 * @param port TCP port; 0 picks a free one (tests)
 * @param eventLoopThreads Netty worker threads (the boss group has one)
 * @param searchThreads threads that run searches
 * @param searchQueueCapacity searches that may wait for a thread; more get RESOURCE_EXHAUSTED
 * @param buildThreads threads BuildIndex trains with
 * @param maxInboundMessageSize largest request in bytes; larger ones get RESOURCE_EXHAUSTED
 * @param keepAliveTime the server pings a connection idle this long, to find dead clients
 * @param keepAliveTimeout and closes it if the ping is not answered within this
 * @param permitKeepAliveTime the most frequent client keepalive pings allowed (gRPC A8);
 *     clients pinging more often are disconnected with "too_many_pings"
 * @param maxConnectionIdle connections without calls for this long are closed with a GOAWAY
 *     (gRPC A9); clients reconnect on their next call
 * @param shutdownGrace how long a graceful shutdown waits for calls in flight
 */
public record ServerConfig(
    String host,
    int port,
    int eventLoopThreads,
    int searchThreads,
    int searchQueueCapacity,
    int buildThreads,
    int maxInboundMessageSize,
    Duration keepAliveTime,
    Duration keepAliveTimeout,
    Duration permitKeepAliveTime,
    Duration maxConnectionIdle,
    Duration shutdownGrace) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 7300;
  /** 64 MiB: about 40,000 vectors of 384 floats in one upsert. */
  public static final int DEFAULT_MAX_INBOUND_MESSAGE_SIZE = 64 << 20;
  /** Queued searches before RESOURCE_EXHAUSTED: enough to ride out bursts, bounded latency. */
  public static final int DEFAULT_SEARCH_QUEUE_CAPACITY = 256;
  public static final Duration DEFAULT_KEEPALIVE_TIME = Duration.ofMinutes(2);
  public static final Duration DEFAULT_KEEPALIVE_TIMEOUT = Duration.ofSeconds(20);
  public static final Duration DEFAULT_PERMIT_KEEPALIVE_TIME = Duration.ofSeconds(10);
  public static final Duration DEFAULT_MAX_CONNECTION_IDLE = Duration.ofMinutes(30);
  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(30);

  public ServerConfig {
    Objects.requireNonNull(host, "host");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0 to 65535, got " + port);
    }
    positive("eventLoopThreads", eventLoopThreads);
    positive("searchThreads", searchThreads);
    positive("searchQueueCapacity", searchQueueCapacity);
    positive("buildThreads", buildThreads);
    positive("maxInboundMessageSize", maxInboundMessageSize);
    for (Duration d : new Duration[] {keepAliveTime, keepAliveTimeout, permitKeepAliveTime,
        maxConnectionIdle, shutdownGrace}) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("durations must be positive, got " + d);
      }
    }
  }

  /** Loopback, port {@value #DEFAULT_PORT}, one event loop and one search thread per core. */
  public static ServerConfig defaults() {
    int cores = Runtime.getRuntime().availableProcessors();
    return new ServerConfig(DEFAULT_HOST, DEFAULT_PORT, cores, cores,
        DEFAULT_SEARCH_QUEUE_CAPACITY, cores, DEFAULT_MAX_INBOUND_MESSAGE_SIZE,
        DEFAULT_KEEPALIVE_TIME, DEFAULT_KEEPALIVE_TIMEOUT, DEFAULT_PERMIT_KEEPALIVE_TIME,
        DEFAULT_MAX_CONNECTION_IDLE, DEFAULT_SHUTDOWN_GRACE);
  }

  public ServerConfig withHost(String host) {
    return new ServerConfig(host, port, eventLoopThreads, searchThreads, searchQueueCapacity,
        buildThreads, maxInboundMessageSize, keepAliveTime, keepAliveTimeout,
        permitKeepAliveTime, maxConnectionIdle, shutdownGrace);
  }

  public ServerConfig withPort(int port) {
    return new ServerConfig(host, port, eventLoopThreads, searchThreads, searchQueueCapacity,
        buildThreads, maxInboundMessageSize, keepAliveTime, keepAliveTimeout,
        permitKeepAliveTime, maxConnectionIdle, shutdownGrace);
  }

  public ServerConfig withSearchThreads(int searchThreads) {
    return new ServerConfig(host, port, eventLoopThreads, searchThreads, searchQueueCapacity,
        buildThreads, maxInboundMessageSize, keepAliveTime, keepAliveTimeout,
        permitKeepAliveTime, maxConnectionIdle, shutdownGrace);
  }

  public ServerConfig withSearchQueueCapacity(int searchQueueCapacity) {
    return new ServerConfig(host, port, eventLoopThreads, searchThreads, searchQueueCapacity,
        buildThreads, maxInboundMessageSize, keepAliveTime, keepAliveTimeout,
        permitKeepAliveTime, maxConnectionIdle, shutdownGrace);
  }

  public ServerConfig withShutdownGrace(Duration shutdownGrace) {
    return new ServerConfig(host, port, eventLoopThreads, searchThreads, searchQueueCapacity,
        buildThreads, maxInboundMessageSize, keepAliveTime, keepAliveTimeout,
        permitKeepAliveTime, maxConnectionIdle, shutdownGrace);
  }

  private static void positive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }
}
