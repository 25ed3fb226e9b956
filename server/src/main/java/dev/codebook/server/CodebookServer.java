package dev.codebook.server;

import dev.codebook.api.v1.CollectionServiceGrpc;
import dev.codebook.api.v1.OperationServiceGrpc;
import dev.codebook.api.v1.SearchServiceGrpc;
import dev.codebook.api.v1.SystemServiceGrpc;
import dev.codebook.api.v1.VectorServiceGrpc;
import dev.codebook.server.collection.BackupLocations;
import dev.codebook.server.collection.CollectionRegistry;
import dev.codebook.server.grpc.ApiKeyInterceptor;
import dev.codebook.server.grpc.CallLogInterceptor;
import dev.codebook.server.grpc.CollectionGrpcService;
import dev.codebook.server.grpc.DrainingInterceptor;
import dev.codebook.server.grpc.OperationGrpcService;
import dev.codebook.server.grpc.OperationLog;
import dev.codebook.server.grpc.SearchGrpcService;
import dev.codebook.server.search.SearchScheduler;
import dev.codebook.server.grpc.SystemGrpcService;
import dev.codebook.server.grpc.VectorGrpcService;
import dev.codebook.server.job.JobRegistry;
import dev.codebook.server.metrics.ServerMetrics;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Codebook gRPC server: {@code codebook.v1} services on Netty, with standard health
 * checking and server reflection.
 *
 * <p><b>Threads.</b> Netty runs its own boss group (one thread, accepts connections) and worker
 * group ({@link ServerConfig#eventLoopThreads}, HTTP/2 framing), on the native epoll transport
 * where {@link Epoll#isAvailable()} and NIO elsewhere. gRPC callbacks (request parsing, upserts,
 * builds) run on a call executor. Searches are handed to a bounded search executor ({@link
 * ServerConfig#searchThreads} threads, a queue of {@link ServerConfig#searchQueueCapacity}): when
 * it is full a search gets RESOURCE_EXHAUSTED at once instead of queueing without bound; a
 * search thread merges compatible queued calls into one batch of up to {@link
 * ServerConfig#searchBatch} queries. No index work runs on an event loop.
 *
 * <p><b>Jobs.</b> BuildIndex runs as a long-running operation on a {@link JobRegistry} pool
 * ({@link ServerConfig#buildJobs} at once), followed through {@code OperationService}.
 *
 * <p><b>Security.</b> TLS when {@link ServerConfig#tls()}; with {@link ServerConfig#apiKeys} every
 * call but health checks needs a bearer key ({@link ApiKeyInterceptor}). Every call is counted,
 * timed and logged by {@link CallLogInterceptor}; {@link ServerMetrics} serves them to
 * Prometheus when {@link ServerConfig#metricsPort} is set.
 *
 * <p><b>Shutdown</b> ({@link #close()} or {@link #shutdown(Duration)}): health turns NOT_SERVING
 * so load balancers stop sending calls, the server stops accepting new calls (clients get
 * UNAVAILABLE, also for a call that slips in during the GOAWAY exchange: {@link
 * DrainingInterceptor}), calls in flight get up to the grace period to finish, the rest are cancelled
 * ({@code shutdownNow}, which searches notice between query groups), then the executors and
 * the event loops stop.
 */
public final class CodebookServer implements AutoCloseable {

  /** Runs a task on the calling thread (the event loop, for search handlers). */
  private static final Executor DIRECT = Runnable::run;


  private static final Logger LOG = LoggerFactory.getLogger(CodebookServer.class);

  /** How long the hard phase of a shutdown waits for each component. */
  private static final Duration HARD_STOP_WAIT = Duration.ofSeconds(5);

  private final ServerConfig config;
  private final CollectionRegistry registry;
  private final HealthStatusManager health = new HealthStatusManager();
  private final DrainingInterceptor draining = new DrainingInterceptor();
  private final JobRegistry jobs;
  /** Every job's operation, kept across restarts. */
  private final OperationLog operations;
  private final ServerMetrics metrics;
  private volatile int metricsPort = -1;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final ExecutorService callExecutor;
  private final ThreadPoolExecutor searchExecutor;
  private final String transport;
  private final Server server;
  private final AtomicBoolean shutdownStarted = new AtomicBoolean();
  private final CountDownLatch terminated = new CountDownLatch(1);
  private volatile boolean drainedCleanly;

  private CodebookServer(ServerConfig config, CollectionRegistry registry) {
    this.config = config;
    this.registry = registry;
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> channelType =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    this.transport = epoll ? "epoll" : "nio";
    this.boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("codebook-boss", true),
        io);
    this.workers = new MultiThreadIoEventLoopGroup(config.eventLoopThreads(),
        new DefaultThreadFactory("codebook-worker", true), io);
    this.callExecutor = Executors.newCachedThreadPool(new DefaultThreadFactory("codebook-call", true));
    this.searchExecutor = new ThreadPoolExecutor(config.searchThreads(), config.searchThreads(),
        0L, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(config.searchQueueCapacity()),
        new DefaultThreadFactory("codebook-search", true), new ThreadPoolExecutor.AbortPolicy());
    try {
      this.operations = OperationLog.open(registry.dataDir());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot open the operation log in "
          + registry.dataDir() + ": " + e.getMessage(), e);
    }
    this.jobs = new JobRegistry(config.buildJobs(), operations.maxSequence(), operations::append);
    this.metrics = new ServerMetrics(registry, searchExecutor, jobs);
    NettyServerBuilder builder = NettyServerBuilder
        .forAddress(new InetSocketAddress(config.host(), config.port()), credentials(config))
        .channelType(channelType)
        .bossEventLoopGroup(boss)
        .workerEventLoopGroup(workers)
        // Method lookup and interceptors run on the event loop that read the headers (they are
        // cheap); the supplier then picks where the handler runs. Searches stay on the event
        // loop, which only validates and hands them to the bounded search executor; every other
        // call (fsyncing upserts, builds, waits) moves to the call executor. A base executor
        // other than direct would add a hop to a pool thread for every call before the supplier
        // is even asked: measured, ~12 us of CPU and a thread wake-up per one-query search.
        .executor(DIRECT)
        .callExecutor(new ServerCallExecutorSupplier() {
          @Override
          public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call,
              Metadata headers) {
            return SearchServiceGrpc.SERVICE_NAME.equals(
                call.getMethodDescriptor().getServiceName()) ? DIRECT : callExecutor;
          }
        })
        .maxInboundMessageSize(config.maxInboundMessageSize())
        .keepAliveTime(config.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveTimeout(config.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveTime(config.permitKeepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveWithoutCalls(true)
        .maxConnectionIdle(config.maxConnectionIdle().toNanos(), TimeUnit.NANOSECONDS)
        .addService(new CollectionGrpcService(registry, jobs, config.buildThreads(),
            new BackupLocations(config.backupRoot(), registry.dataDir())))
        .addService(new OperationGrpcService(jobs, operations))
        .addService(new VectorGrpcService(registry))
        .addService(new SearchGrpcService(registry, new SearchScheduler(searchExecutor,
            config.searchQueueCapacity(), config.searchBatch(), metrics)).definition())
        .addService(new SystemGrpcService())
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance());
    // The last added runs first: log and count every call, then refuse it while draining,
    // then check its API key.
    if (!config.apiKeys().isEmpty()) {
      builder.intercept(new ApiKeyInterceptor(config.apiKeys()));
    }
    this.server = builder
        .intercept(draining)
        .intercept(new CallLogInterceptor(metrics))
        .build();
  }

  /** TLS from the configured PEM files, else plaintext. */
  private static ServerCredentials credentials(ServerConfig config) {
    if (!config.tls()) {
      return InsecureServerCredentials.create();
    }
    try {
      return TlsServerCredentials.create(config.tlsCertChain().toFile(),
          config.tlsPrivateKey().toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the TLS certificate chain "
          + config.tlsCertChain() + " or private key " + config.tlsPrivateKey() + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * Starts a server with an empty registry in a temporary directory, removed when the server
   * stops (tests; {@code codebook serve} passes a registry over its data directory).
   */
  public static CodebookServer start(ServerConfig config) throws IOException {
    CollectionRegistry registry = new CollectionRegistry();
    try {
      return start(config, registry);
    } catch (IOException | RuntimeException e) {
      registry.close();
      throw e;
    }
  }

  /**
   * Starts a server serving {@code registry}'s collections; the server closes the registry
   * (flushing every collection) when it stops.
   *
   * @throws IOException if it cannot listen, e.g. the port is taken
   */
  public static CodebookServer start(ServerConfig config, CollectionRegistry registry)
      throws IOException {
    CodebookServer s = new CodebookServer(config, registry);
    try {
      s.server.start();
    } catch (IOException e) {
      s.stopExecutorsAndLoops();
      throw new IOException("cannot listen on " + config.host() + ":" + config.port() + ": "
          + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
    }
    if (config.metricsPort() != ServerConfig.METRICS_OFF) {
      try {
        s.metricsPort = s.metrics.serve(config.host(), config.metricsPort());
      } catch (IOException e) {
        s.server.shutdownNow();
        s.stopExecutorsAndLoops();
        throw e;
      }
    }
    for (String service : List.of(CollectionServiceGrpc.SERVICE_NAME,
        VectorServiceGrpc.SERVICE_NAME, SearchServiceGrpc.SERVICE_NAME,
        OperationServiceGrpc.SERVICE_NAME,
        SystemServiceGrpc.SERVICE_NAME, HealthStatusManager.SERVICE_NAME_ALL_SERVICES)) {
      s.health.setStatus(service, ServingStatus.SERVING);
    }
    LOG.info("listening on {}:{} ({} transport, {}, {} search threads, queue {}, merged batches"
            + " of up to {} queries, API keys {}, metrics {})", config.host(), s.port(),
        s.transport, config.tls() ? "TLS" : "plaintext", config.searchThreads(),
        config.searchQueueCapacity(), config.searchBatch(),
        config.apiKeys().isEmpty() ? "off" : "required",
        s.metricsPort < 0 ? "off" : "on port " + s.metricsPort);
    return s;
  }

  public ServerConfig config() {
    return config;
  }

  public CollectionRegistry registry() {
    return registry;
  }

  /** The port listened on (the chosen one when configured with 0). */
  public int port() {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  /** {@code host:port} as listened on. */
  public String address() {
    return config.host() + ":" + port();
  }

  /** The Netty transport in use: {@code "epoll"} or {@code "nio"}. */
  public String transport() {
    return transport;
  }

  /** The port of the Prometheus endpoint, or -1 when it is off. */
  public int metricsPort() {
    return metricsPort;
  }

  public ServerMetrics metrics() {
    return metrics;
  }

  public JobRegistry jobs() {
    return jobs;
  }

  /** Whether a shutdown has begun: new calls get UNAVAILABLE from then on. */
  public boolean isShuttingDown() {
    return draining.isDraining();
  }

  /** Searches running right now. */
  public int activeSearches() {
    return searchExecutor.getActiveCount();
  }

  /** Searches waiting for a thread. */
  public int queuedSearches() {
    return searchExecutor.getQueue().size();
  }

  /** Graceful shutdown with {@link ServerConfig#shutdownGrace}. */
  @Override
  public void close() {
    shutdown(config.shutdownGrace());
  }

  /**
   * Drains and stops the server; see the class comment. A second call waits for the first.
   *
   * @return true if every call in flight finished within {@code grace}
   */
  public boolean shutdown(Duration grace) {
    if (!shutdownStarted.compareAndSet(false, true)) {
      awaitTerminationUninterruptibly();
      return drainedCleanly;
    }
    LOG.info("shutting down: draining calls for up to {} s", grace.toSeconds());
    boolean clean = false;
    try {
      health.enterTerminalState();
      draining.startDraining();
      // Builds are cancelled rather than waited for (they can take minutes); WaitOperation
      // calls then answer with the CANCELLED operation, so they do not hold up the drain.
      jobs.close(HARD_STOP_WAIT.toMillis());
      server.shutdown();
      clean = server.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS);
      if (!clean) {
        LOG.warn("calls still running after {} s; cancelling them", grace.toSeconds());
        server.shutdownNow();
        server.awaitTermination(HARD_STOP_WAIT.toNanos(), TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      stopExecutorsAndLoops();
      registry.close();
      drainedCleanly = clean;
      terminated.countDown();
      LOG.info("stopped");
    }
    return clean;
  }

  /** Blocks until a shutdown has finished. */
  public void awaitTermination() throws InterruptedException {
    terminated.await();
  }

  private void awaitTerminationUninterruptibly() {
    boolean interrupted = false;
    while (true) {
      try {
        terminated.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void stopExecutorsAndLoops() {
    metrics.close();
    jobs.close(0);
    searchExecutor.shutdown();
    callExecutor.shutdown();
    try {
      if (!searchExecutor.awaitTermination(HARD_STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        searchExecutor.shutdownNow();
      }
      if (!callExecutor.awaitTermination(HARD_STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        callExecutor.shutdownNow();
      }
    } catch (InterruptedException e) {
      searchExecutor.shutdownNow();
      callExecutor.shutdownNow();
      Thread.currentThread().interrupt();
    }
    // No quiet period: the server has already stopped every channel.
    workers.shutdownGracefully(0, HARD_STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)
        .awaitUninterruptibly(2 * HARD_STOP_WAIT.toMillis());
    boss.shutdownGracefully(0, HARD_STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)
        .awaitUninterruptibly(2 * HARD_STOP_WAIT.toMillis());
    operations.close();
  }
}
