package dev.codebook.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
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
 * @param buildJobs index builds that run at once (each with {@code buildThreads}); more wait
 * @param tlsCertChain PEM certificate chain to serve TLS with; null for plaintext
 * @param tlsPrivateKey PEM private key (PKCS#8) of that chain; null for plaintext
 * @param apiKeys bearer tokens a call must carry ({@code authorization: Bearer KEY}); empty to
 *     accept every call. Health checks are exempt.
 * @param metricsPort HTTP port of the Prometheus {@code /metrics} endpoint on {@code host}; 0
 *     picks a free one, {@value #METRICS_OFF} (the default) serves none
 * @param searchBatch most queries one search thread runs as one batch when single-query calls
 *     queue up behind each other (compatible ones: same collection, k, parameters, fields, no
 *     filter); 1 searches every call on its own
 * @param backupRoot the directory under which BackupCollection may write and RestoreCollection
 *     may read; null (the default) refuses both, so that a client cannot make the server write
 *     wherever its own account may
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
    Duration shutdownGrace,
    int buildJobs,
    Path tlsCertChain,
    Path tlsPrivateKey,
    Set<String> apiKeys,
    int metricsPort,
    int searchBatch,
    Path backupRoot) {

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
  /** One build at a time: a build already uses every core. */
  public static final int DEFAULT_BUILD_JOBS = 1;
  /**
   * Queries merged into one search from queued calls: enough for the batched kernels to share
   * the table and rotation work, small enough (about 1-2 ms on the real set's high-recall
   * setting) not to hold back the calls merged into it.
   */
  public static final int DEFAULT_SEARCH_BATCH = 16;
  /** {@link #metricsPort} value for "no metrics endpoint". */
  public static final int METRICS_OFF = -1;

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
    positive("buildJobs", buildJobs);
    positive("searchBatch", searchBatch);
    for (Duration d : new Duration[] {keepAliveTime, keepAliveTimeout, permitKeepAliveTime,
        maxConnectionIdle, shutdownGrace}) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("durations must be positive, got " + d);
      }
    }
    if ((tlsCertChain == null) != (tlsPrivateKey == null)) {
      throw new IllegalArgumentException("TLS needs both a certificate chain and a private key;"
          + " got only the " + (tlsCertChain != null ? "certificate chain" : "private key"));
    }
    apiKeys = apiKeys == null ? Set.of() : Set.copyOf(apiKeys);
    for (String key : apiKeys) {
      if (key.isBlank() || !key.strip().equals(key)) {
        throw new IllegalArgumentException("API keys must be non-blank without surrounding"
            + " whitespace");
      }
    }
    if (metricsPort < METRICS_OFF || metricsPort > 65535) {
      throw new IllegalArgumentException(
          "metrics port must be 0 to 65535, or -1 for none, got " + metricsPort);
    }
    if (backupRoot != null && !backupRoot.isAbsolute()) {
      backupRoot = backupRoot.toAbsolutePath();
    }
  }

  /** Loopback, port {@value #DEFAULT_PORT}, one event loop and one search thread per core. */
  public static ServerConfig defaults() {
    int cores = Runtime.getRuntime().availableProcessors();
    return new ServerConfig(DEFAULT_HOST, DEFAULT_PORT, cores, cores,
        DEFAULT_SEARCH_QUEUE_CAPACITY, cores, DEFAULT_MAX_INBOUND_MESSAGE_SIZE,
        DEFAULT_KEEPALIVE_TIME, DEFAULT_KEEPALIVE_TIMEOUT, DEFAULT_PERMIT_KEEPALIVE_TIME,
        DEFAULT_MAX_CONNECTION_IDLE, DEFAULT_SHUTDOWN_GRACE, DEFAULT_BUILD_JOBS, null, null,
        Set.of(), METRICS_OFF, DEFAULT_SEARCH_BATCH, null);
  }

  /** Whether the server speaks TLS. */
  public boolean tls() {
    return tlsCertChain != null;
  }

  /** A builder starting from this configuration. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  public ServerConfig withHost(String host) {
    return toBuilder().host(host).build();
  }

  public ServerConfig withPort(int port) {
    return toBuilder().port(port).build();
  }

  public ServerConfig withSearchThreads(int searchThreads) {
    return toBuilder().searchThreads(searchThreads).build();
  }

  public ServerConfig withSearchQueueCapacity(int searchQueueCapacity) {
    return toBuilder().searchQueueCapacity(searchQueueCapacity).build();
  }

  public ServerConfig withShutdownGrace(Duration shutdownGrace) {
    return toBuilder().shutdownGrace(shutdownGrace).build();
  }

  public ServerConfig withBackupRoot(Path backupRoot) {
    return toBuilder().backupRoot(backupRoot).build();
  }

  /** Changes some fields of a configuration; {@link #build} checks the result. */
  public static final class Builder {
    private String host;
    private int port;
    private int eventLoopThreads;
    private int searchThreads;
    private int searchQueueCapacity;
    private int buildThreads;
    private int maxInboundMessageSize;
    private Duration keepAliveTime;
    private Duration keepAliveTimeout;
    private Duration permitKeepAliveTime;
    private Duration maxConnectionIdle;
    private Duration shutdownGrace;
    private int buildJobs;
    private Path tlsCertChain;
    private Path tlsPrivateKey;
    private Set<String> apiKeys;
    private int metricsPort;
    private int searchBatch;
    private Path backupRoot;

    private Builder(ServerConfig c) {
      host = c.host;
      port = c.port;
      eventLoopThreads = c.eventLoopThreads;
      searchThreads = c.searchThreads;
      searchQueueCapacity = c.searchQueueCapacity;
      buildThreads = c.buildThreads;
      maxInboundMessageSize = c.maxInboundMessageSize;
      keepAliveTime = c.keepAliveTime;
      keepAliveTimeout = c.keepAliveTimeout;
      permitKeepAliveTime = c.permitKeepAliveTime;
      maxConnectionIdle = c.maxConnectionIdle;
      shutdownGrace = c.shutdownGrace;
      buildJobs = c.buildJobs;
      tlsCertChain = c.tlsCertChain;
      tlsPrivateKey = c.tlsPrivateKey;
      apiKeys = c.apiKeys;
      metricsPort = c.metricsPort;
      searchBatch = c.searchBatch;
      backupRoot = c.backupRoot;
    }

    public Builder host(String v) { host = v; return this; }
    public Builder port(int v) { port = v; return this; }
    public Builder eventLoopThreads(int v) { eventLoopThreads = v; return this; }
    public Builder searchThreads(int v) { searchThreads = v; return this; }
    public Builder searchQueueCapacity(int v) { searchQueueCapacity = v; return this; }
    public Builder buildThreads(int v) { buildThreads = v; return this; }
    public Builder maxInboundMessageSize(int v) { maxInboundMessageSize = v; return this; }
    public Builder keepAliveTime(Duration v) { keepAliveTime = v; return this; }
    public Builder keepAliveTimeout(Duration v) { keepAliveTimeout = v; return this; }
    public Builder permitKeepAliveTime(Duration v) { permitKeepAliveTime = v; return this; }
    public Builder maxConnectionIdle(Duration v) { maxConnectionIdle = v; return this; }
    public Builder shutdownGrace(Duration v) { shutdownGrace = v; return this; }
    public Builder buildJobs(int v) { buildJobs = v; return this; }
    public Builder tls(Path certChain, Path privateKey) {
      tlsCertChain = certChain;
      tlsPrivateKey = privateKey;
      return this;
    }
    public Builder apiKeys(Set<String> v) { apiKeys = v; return this; }
    public Builder metricsPort(int v) { metricsPort = v; return this; }
    public Builder searchBatch(int v) { searchBatch = v; return this; }
    public Builder backupRoot(Path v) { backupRoot = v; return this; }

    public ServerConfig build() {
      return new ServerConfig(host, port, eventLoopThreads, searchThreads, searchQueueCapacity,
          buildThreads, maxInboundMessageSize, keepAliveTime, keepAliveTimeout,
          permitKeepAliveTime, maxConnectionIdle, shutdownGrace, buildJobs, tlsCertChain,
          tlsPrivateKey, apiKeys, metricsPort, searchBatch, backupRoot);
    }
  }

  private static void positive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }

  /** The record's text without the API keys' values. */
  @Override
  public String toString() {
    return "ServerConfig[host=" + host + ", port=" + port + ", searchThreads=" + searchThreads
        + ", searchQueueCapacity=" + searchQueueCapacity + ", searchBatch=" + searchBatch
        + ", buildThreads=" + buildThreads
        + ", buildJobs=" + buildJobs + ", maxInboundMessageSize=" + maxInboundMessageSize
        + ", tls=" + tls() + ", apiKeys=" + apiKeys.size() + ", metricsPort=" + metricsPort
        + ", backupRoot=" + (backupRoot == null ? "off" : backupRoot) + "]";
  }
}
