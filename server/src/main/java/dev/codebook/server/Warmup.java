package dev.codebook.server;

import dev.codebook.api.v1.Query;
import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchServiceGrpc;
import dev.codebook.index.SearchParams;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.server.collection.Collection;
import dev.codebook.server.grpc.CallLogInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Warms a started server up before it says it is ready, so that its first real searches do not
 * pay for class loading and compilation: first searches of random queries straight into every
 * collection (the index kernels, one query and batches, at the default and a deeper probe), then
 * the same through the server's own port over a loopback connection (request parsing, the
 * search scheduler, response building, the transport). Read-only, and an empty collection is
 * skipped.
 *
 * <p>The loopback calls carry {@link CallLogInterceptor#WARMUP_HEADER}, so they are neither
 * logged nor counted as requests; a TLS server skips that phase (it would need a client
 * certificate trust of its own).
 */
public final class Warmup {

  /** Queries a merged batch holds: the server's default search batch. */
  private static final int BATCH = 16;

  /**
   * Queries searched in process, over all collections: enough for the JIT to have compiled the
   * index's hot loops with C2 (the Vector API is fast only there), measured on the bundled
   * sample; the first searches after a warm-up of a few hundred still took 5-20 ms.
   */
  static final int IN_PROCESS_QUERIES = 6_000;

  /** Calls through the port: the request, scheduling and response paths' share. */
  static final int PORT_CALLS = 800;

  /** Most rounds over all collections in each phase, whatever the counts. */
  private static final int MAX_ROUNDS = 20_000;

  private Warmup() {}

  /** What a warm-up did. */
  public record Result(int collections, long searches, long calls, long millis) {}

  /**
   * Warms {@code server} up: {@value #IN_PROCESS_QUERIES} queries in process, then {@value
   * #PORT_CALLS} calls through the port, each phase cut short when its share of {@code budget}
   * (two thirds, then the rest) has passed.
   */
  public static Result run(CodebookServer server, Duration budget) {
    long start = System.nanoTime();
    List<Collection> all = new ArrayList<>();
    for (Collection c : server.registry().list(null, Integer.MAX_VALUE)) {
      if (c.info().vectorCount() > 0) {
        all.add(c);
      }
    }
    if (all.isEmpty()) {
      return new Result(0, 0, 0, 0);
    }
    SplittableRandom rnd = new SplittableRandom(42);
    long inProcessEnd = start + budget.toNanos() * 2 / 3;
    long searches = 0;
    // Round-robin so that every collection gets warmed even when the budget runs out early.
    for (int round = 0; round < MAX_ROUNDS && searches < IN_PROCESS_QUERIES
        && System.nanoTime() < inProcessEnd; round++) {
      for (Collection c : all) {
        try {
          int rows = round % 8 == 7 ? BATCH : 1;
          c.search(queries(rnd, rows, c.dimension()), 10, params(c, round), false, false,
              () -> false);
          searches += rows;
        } catch (RuntimeException e) {
          // Deleted meanwhile, or cannot search yet: nothing to warm.
        }
      }
    }
    long calls = server.config().tls() ? 0
        : throughPort(server, all, rnd, start + budget.toNanos());
    awaitQuietJit(start + budget.toNanos());
    return new Result(all.size(), searches, calls, (System.nanoTime() - start) / 1_000_000);
  }

  /** How long the JIT must have compiled nothing for the warm-up to count as settled. */
  private static final long JIT_QUIET_NANOS = 300_000_000L;

  /**
   * Waits, until {@code deadline} at most, for the JIT to finish compiling what the warm-up
   * made hot: it compiles in the background, and a first query that arrives while the last
   * methods are still queued runs them in their slower first-tier form.
   */
  private static void awaitQuietJit(long deadline) {
    java.lang.management.CompilationMXBean jit =
        java.lang.management.ManagementFactory.getCompilationMXBean();
    if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
      return;
    }
    long last = jit.getTotalCompilationTime();
    long quietSince = System.nanoTime();
    while (System.nanoTime() - quietSince < JIT_QUIET_NANOS && System.nanoTime() < deadline) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      long now = jit.getTotalCompilationTime();
      if (now != last) {
        last = now;
        quietSince = System.nanoTime();
      }
    }
  }

  private static long throughPort(CodebookServer server, List<Collection> all,
      SplittableRandom rnd, long deadline) {
    Metadata headers = new Metadata();
    headers.put(CallLogInterceptor.WARMUP_HEADER, "1");
    if (!server.config().apiKeys().isEmpty()) {
      headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
          "Bearer " + server.config().apiKeys().iterator().next());
    }
    ManagedChannel channel = NettyChannelBuilder.forAddress(new InetSocketAddress(
            loopbackFor(server.config().host()), server.port()))
        .usePlaintext().maxInboundMessageSize(64 << 20).build();
    long calls = 0;
    try {
      SearchServiceGrpc.SearchServiceBlockingStub stub = SearchServiceGrpc.newBlockingStub(
          ClientInterceptors.intercept(channel,
              MetadataUtils.newAttachHeadersInterceptor(headers)));
      for (int round = 0; round < MAX_ROUNDS && calls < PORT_CALLS
          && System.nanoTime() < deadline; round++) {
        for (Collection c : all) {
          int rows = round % 8 == 7 ? BATCH : 1;
          SearchParams p = params(c, round);
          SearchRequest.Builder r = SearchRequest.newBuilder().setCollection(c.name())
              .setTopK(10).setNprobe(p.nprobe()).setRerank(p.rerank());
          FloatMatrix q = queries(rnd, rows, c.dimension());
          for (int i = 0; i < rows; i++) {
            Query.Builder qb = Query.newBuilder();
            for (float x : q.row(i)) {
              qb.addVector(x);
            }
            r.addQueries(qb);
          }
          try {
            stub.withDeadlineAfter(10, TimeUnit.SECONDS).search(r.build());
            calls++;
          } catch (RuntimeException e) {
            return calls; // the port does not answer as expected: the in-process part is done
          }
        }
      }
      return calls;
    } finally {
      channel.shutdownNow();
    }
  }

  private static String loopbackFor(String host) {
    try {
      InetAddress a = InetAddress.getByName(host);
      return a.isAnyLocalAddress() ? InetAddress.getLoopbackAddress().getHostAddress() : host;
    } catch (java.net.UnknownHostException e) {
      return host;
    }
  }

  private static SearchParams params(Collection c, int round) {
    int nlist = c.spec().hasIvf() ? c.spec().nlist() : 1;
    return round % 2 == 0 ? SearchParams.DEFAULTS
        : new SearchParams(Math.min(nlist, 16), c.spec().refineFlat() ? 5 : 1);
  }

  private static FloatMatrix queries(SplittableRandom rnd, int rows, int dim) {
    float[] v = new float[rows * dim];
    for (int i = 0; i < v.length; i++) {
      // A sum of uniforms: close enough to normal for a random direction, never all zeros.
      v[i] = (float) (rnd.nextDouble() + rnd.nextDouble() + rnd.nextDouble() - 1.5);
    }
    return new FloatMatrix(rows, dim, v);
  }
}
