package dev.codebook.loadtest.load;

import dev.codebook.api.v1.SearchResponse;
import dev.codebook.client.CodebookException;
import io.grpc.Status;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Drives search calls at a server, one load level at a time, in one of two ways:
 *
 * <ul>
 *   <li><b>Closed loop</b> ({@link #closedLoop}): N workers, each sending its next call when the
 *       previous one is answered. Throughput is whatever the server sustains at that
 *       concurrency; latency is from send to answer.
 *   <li><b>Open loop</b> ({@link #openLoop}): calls sent on a fixed timetable ({@link
 *       OpenLoopSchedule}) whether or not earlier ones were answered, asynchronously, so a slow
 *       server cannot slow the schedule down. Latency is measured from each call's slot on the
 *       timetable, which charges a stall to every call it delayed (coordinated omission
 *       corrected). In-flight calls are capped ({@link Settings#maxInFlight}) to bound the
 *       generator's memory; a call held back by the cap is still charged from its slot.
 * </ul>
 *
 * A level runs a warm-up (recorded apart and dropped), then the measured phase, which ends after
 * {@link Settings#duration} or {@link Settings#maxRequests} calls, whichever comes first, and
 * after every call sent has been answered. Only the measured phase's answers are scored, into a
 * {@link LevelRecall} of the level's own. A progress line goes to {@code progress} every second.
 */
public final class LoadGenerator {

  /**
   * How long each level runs.
   *
   * @param warmup unmeasured time before each level
   * @param duration measured time
   * @param maxRequests at most this many measured calls; 0 for no limit
   * @param maxInFlight open loop: most calls outstanding at once
   */
  public record Settings(Duration warmup, Duration duration, long maxRequests, int maxInFlight) {
    public Settings {
      if (warmup.isNegative()) {
        throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup.toMillis() / 1e3);
      }
      if (duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException("--duration must be positive, got "
            + duration.toMillis() / 1e3);
      }
      if (maxRequests < 0) {
        throw new IllegalArgumentException("--max-requests must be >= 0, got " + maxRequests);
      }
      if (maxInFlight <= 0) {
        throw new IllegalArgumentException("--max-in-flight must be positive, got " + maxInFlight);
      }
    }
  }

  /**
   * One level's outcome.
   *
   * @param concurrency closed loop: workers; open loop: 0
   * @param rate open loop: calls per second asked for; closed loop: 0
   * @param stats what the measured phase recorded
   * @param recall the measured phase's answers (and failures) scored against the ground truth
   * @param seconds measured time, from its start to the last answer
   * @param sent measured calls sent
   * @param clientCpuSeconds CPU time this process (the generator and its gRPC client) used in
   *     the measured phase, or NaN where the JVM does not say: on a machine shared with the
   *     server, what the generator takes from it
   * @param serverCpuSeconds CPU time the server process used in the measured phase, when it
   *     runs on this machine and its pid was given; NaN otherwise
   */
  public record Level(int concurrency, double rate, LatencyStats stats, LevelRecall recall,
      double seconds, long sent, double clientCpuSeconds, double serverCpuSeconds) {
    public boolean open() {
      return rate > 0;
    }

    /** Queries answered per second. */
    public double qps() {
      return seconds > 0 ? stats.queries() / seconds : 0;
    }

    /** Client CPU per answered call in microseconds, or NaN. */
    public double clientCpuMicrosPerCall() {
      return stats.calls() > 0 ? clientCpuSeconds * 1e6 / stats.calls() : Double.NaN;
    }

    /** Server CPU per answered call in microseconds, or NaN. */
    public double serverCpuMicrosPerCall() {
      return stats.calls() > 0 ? serverCpuSeconds * 1e6 / stats.calls() : Double.NaN;
    }

    /** Calls answered per second. */
    public double callsPerSecond() {
      return seconds > 0 ? stats.calls() / seconds : 0;
    }
  }

  /** How long to wait for calls still in flight once a level has stopped sending. */
  private static final Duration DRAIN_WAIT = Duration.ofSeconds(60);

  private final Searcher searcher;
  private final QueryPlan plan;
  private final Settings settings;
  private final Consumer<String> progress;
  private final LongSupplier serverCpu;
  private final java.util.List<Sender> senders;

  /**
   * A connection's searcher and the event loop it runs on. The open loop sends each call from
   * the loop of the connection it goes to, on a timer of that loop: no thread hand-off and no
   * parked sender thread to wake per call (measured: 110-190 us of generator CPU per call with a
   * parking sender, 40 us without, at 5k calls/s).
   */
  public record Sender(Searcher searcher, ScheduledExecutorService loop) {}

  public LoadGenerator(Searcher searcher, QueryPlan plan, Settings settings,
      Consumer<String> progress) {
    this(searcher, plan, settings, progress, () -> -1);
  }

  /**
   * @param serverCpu the server process's CPU time in nanoseconds ({@link #processCpu}), or -1
   */
  public LoadGenerator(Searcher searcher, QueryPlan plan, Settings settings,
      Consumer<String> progress, LongSupplier serverCpu) {
    this(java.util.List.of(new Sender(searcher, null)), plan, settings, progress, serverCpu);
  }

  /**
   * Calls go round robin over {@code senders}; the open loop sends from their event loops when
   * every sender has one ({@link Sender#loop} not null), else from a thread of its own.
   *
   * @param serverCpu the server process's CPU time in nanoseconds ({@link #processCpu}), or -1
   */
  public LoadGenerator(java.util.List<Sender> senders, QueryPlan plan, Settings settings,
      Consumer<String> progress, LongSupplier serverCpu) {
    if (senders.isEmpty()) {
      throw new IllegalArgumentException("no senders");
    }
    java.util.List<Sender> all = java.util.List.copyOf(senders);
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    this.searcher = all.size() == 1 ? all.get(0).searcher()
        : request -> all.get(Math.floorMod(next.getAndIncrement(), all.size())).searcher()
            .search(request);
    this.plan = plan;
    this.settings = settings;
    this.progress = progress;
    this.serverCpu = serverCpu;
    this.senders = all;
  }

  // ------------------------------------------------------------------ closed loop

  /** Runs {@code concurrency} workers back to back through warm-up and the measured phase. */
  public Level closedLoop(int concurrency) throws InterruptedException {
    if (concurrency <= 0) {
      throw new IllegalArgumentException("--concurrency must be positive, got " + concurrency);
    }
    ClosedLoop loop = new ClosedLoop(concurrency);
    return loop.run();
  }

  private final class ClosedLoop {
    private final int workers;
    private final LatencyStats warm = new LatencyStats();
    private final LatencyStats measured = new LatencyStats();
    private final LevelRecall recall = plan.newRecall();
    private volatile LatencyStats current;
    private volatile boolean stopping;
    private final AtomicLong sent = new AtomicLong();
    private final CountDownLatch finished;

    ClosedLoop(int workers) {
      this.workers = workers;
      this.finished = new CountDownLatch(workers);
      this.current = settings.warmup().isZero() ? measured : warm;
    }

    Level run() throws InterruptedException {
      long t0 = System.nanoTime();
      long warmupNanos = settings.warmup().toNanos();
      AtomicLong measureStart = new AtomicLong(t0);
      AtomicLong cpuStart = new AtomicLong(processCpuNanos());
      AtomicLong serverCpuStart = new AtomicLong(serverCpu.getAsLong());
      ScheduledExecutorService timer = timer();
      try {
        Runnable stopLater = () -> timer.schedule(() -> {
          stopping = true;
        }, settings.duration().toNanos(), TimeUnit.NANOSECONDS);
        if (current == warm) {
          timer.schedule(() -> {
            measureStart.set(System.nanoTime());
            cpuStart.set(processCpuNanos());
            serverCpuStart.set(serverCpu.getAsLong());
            current = measured;
            stopLater.run();
          }, warmupNanos, TimeUnit.NANOSECONDS);
        } else {
          stopLater.run();
        }
        ScheduledFuture<?> ticker =
            progressTicker(timer, t0, () -> current, warm, "c=" + workers);
        for (int w = 0; w < workers; w++) {
          next();
        }
        if (!finished.await(settings.warmup().plus(settings.duration()).plus(DRAIN_WAIT).toNanos(),
            TimeUnit.NANOSECONDS)) {
          throw new IllegalStateException("calls still unanswered "
              + DRAIN_WAIT.toSeconds() + " s after the test ended");
        }
        ticker.cancel(false);
      } finally {
        timer.shutdownNow();
      }
      double cpu = (processCpuNanos() - cpuStart.get()) / 1e9;
      double serverCpuSeconds = cpuSeconds(serverCpuStart.get(), serverCpu.getAsLong());
      long start = measureStart.get();
      long end = Math.max(start, measured.lastCompletionNanos());
      measured.drain();
      return new Level(workers, 0, measured, recall, (end - start) / 1e9, sent.get(), cpu,
          serverCpuSeconds);
    }

    /** Sends calls one after the other until told to stop; no recursion on quick failures. */
    void next() {
      while (true) {
        LatencyStats stats = current;
        if (stopping) {
          finished.countDown();
          return;
        }
        if (stats == measured) {
          long n = sent.incrementAndGet();
          if (settings.maxRequests() > 0 && n > settings.maxRequests()) {
            sent.decrementAndGet();
            stopping = true;
            finished.countDown();
            return;
          }
        }
        LevelRecall scored = stats == measured ? recall : null;
        int call = plan.nextCall();
        long start = System.nanoTime();
        CompletableFuture<SearchResponse> f = send(call);
        if (!f.isDone()) {
          f.whenComplete((r, t) -> {
            record(stats, scored, call, start, start, r, t);
            next();
          });
          return;
        }
        Throwable failed = failure(f);
        record(stats, scored, call, start, start, failed == null ? f.getNow(null) : null, failed);
      }
    }
  }

  // ------------------------------------------------------------------ open loop

  /** Sends {@code rate} calls per second on a fixed timetable through warm-up and measurement. */
  public Level openLoop(double rate) throws InterruptedException {
    if (senders.stream().allMatch(x -> x.loop() != null)) {
      return new TimedOpenLoop(rate).run();
    }
    long t0 = System.nanoTime();
    OpenLoopSchedule schedule = new OpenLoopSchedule(t0 + 1_000_000, rate);
    long warmCalls = schedule.callsWithin(settings.warmup().toNanos());
    long measuredCalls = measuredCalls(schedule, warmCalls);
    LatencyStats warm = new LatencyStats();
    LatencyStats measured = new LatencyStats();
    LevelRecall recall = plan.newRecall();
    java.util.concurrent.atomic.AtomicReference<LatencyStats> current =
        new java.util.concurrent.atomic.AtomicReference<>(warmCalls > 0 ? warm : measured);
    Semaphore inFlight = new Semaphore(settings.maxInFlight());
    String label = String.format(Locale.ROOT, "rate=%s", fmt(rate));
    ScheduledExecutorService timer = timer();
    long measureStart = schedule.due(warmCalls);
    double cpu;
    double serverCpuSeconds;
    try {
      ScheduledFuture<?> ticker = progressTicker(timer, t0, current::get, warm, label);
      long total = warmCalls + measuredCalls;
      long cpuStart = warmCalls > 0 ? Long.MIN_VALUE : processCpuNanos();
      long serverStart = serverCpu.getAsLong();
      for (long i = 0; i < total; i++) {
        long due = schedule.due(i);
        LatencyStats stats = i < warmCalls ? warm : measured;
        if (stats == measured && cpuStart == Long.MIN_VALUE) {
          cpuStart = processCpuNanos();
          serverStart = serverCpu.getAsLong();
        }
        current.set(stats);
        for (long wait; (wait = due - System.nanoTime()) > 0; ) {
          LockSupport.parkNanos(wait);
        }
        inFlight.acquire();
        int call = plan.nextCall();
        long sentAt = System.nanoTime();
        LevelRecall scored = stats == measured ? recall : null;
        send(call).whenComplete((r, t) -> {
          record(stats, scored, call, due, sentAt, r, t);
          inFlight.release();
        });
      }
      if (!inFlight.tryAcquire(settings.maxInFlight(), DRAIN_WAIT.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new IllegalStateException("calls still unanswered "
            + DRAIN_WAIT.toSeconds() + " s after the test ended");
      }
      inFlight.release(settings.maxInFlight());
      ticker.cancel(false);
      cpu = (processCpuNanos() - cpuStart) / 1e9;
      serverCpuSeconds = cpuSeconds(serverStart, serverCpu.getAsLong());
    } finally {
      timer.shutdownNow();
    }
    long end = Math.max(measureStart, measured.lastCompletionNanos());
    measured.drain();
    return new Level(0, rate, measured, recall, (end - measureStart) / 1e9, measuredCalls, cpu,
        serverCpuSeconds);
  }

  /**
   * The open loop driven by the senders' event loops: sender {@code c} of {@code n} owns calls
   * {@code c, c + n, c + 2n, ...} of the timetable, and a task on its loop sends every call of its
   * share that is due, then schedules itself for the next. A loop that falls behind catches up
   * in one go; latency is still charged from each call's slot.
   */
  private final class TimedOpenLoop {
    private final double rate;
    private final OpenLoopSchedule schedule;
    private final long warmCalls;
    private final long total;
    private final LatencyStats warm = new LatencyStats();
    private final LatencyStats measured = new LatencyStats();
    private final LevelRecall recall = plan.newRecall();
    private final java.util.concurrent.atomic.AtomicReference<LatencyStats> current;
    private final Semaphore inFlight = new Semaphore(settings.maxInFlight());
    private final AtomicLong cpuStart = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong serverStart = new AtomicLong(Long.MIN_VALUE);
    private final CountDownLatch allSent;

    TimedOpenLoop(double rate) {
      this.rate = rate;
      this.schedule = new OpenLoopSchedule(System.nanoTime() + 1_000_000, rate);
      this.warmCalls = schedule.callsWithin(settings.warmup().toNanos());
      this.total = warmCalls + measuredCalls(schedule, warmCalls);
      this.current = new java.util.concurrent.atomic.AtomicReference<>(
          warmCalls > 0 ? warm : measured);
      this.allSent = new CountDownLatch(senders.size());
      if (warmCalls == 0) {
        cpuStart.set(processCpuNanos());
        serverStart.set(serverCpu.getAsLong());
      }
    }

    Level run() throws InterruptedException {
      long t0 = System.nanoTime();
      ScheduledExecutorService timer = timer();
      double cpu;
      double serverCpuSeconds;
      try {
        ScheduledFuture<?> ticker = progressTicker(timer, t0, current::get, warm,
            String.format(Locale.ROOT, "rate=%s", fmt(rate)));
        int n = senders.size();
        for (int c = 0; c < n; c++) {
          Sender sender = senders.get(c);
          new Tick(sender, c, n).schedule();
        }
        long budget = settings.warmup().plus(settings.duration()).plus(DRAIN_WAIT).toNanos();
        if (!allSent.await(budget, TimeUnit.NANOSECONDS)
            || !inFlight.tryAcquire(settings.maxInFlight(), DRAIN_WAIT.toNanos(),
                TimeUnit.NANOSECONDS)) {
          throw new IllegalStateException("calls still unanswered "
              + DRAIN_WAIT.toSeconds() + " s after the test ended");
        }
        inFlight.release(settings.maxInFlight());
        ticker.cancel(false);
        cpu = (processCpuNanos() - cpuStart.get()) / 1e9;
        serverCpuSeconds = cpuSeconds(serverStart.get(), serverCpu.getAsLong());
      } finally {
        timer.shutdownNow();
      }
      long measureStart = schedule.due(warmCalls);
      long end = Math.max(measureStart, measured.lastCompletionNanos());
      measured.drain();
      return new Level(0, rate, measured, recall, (end - measureStart) / 1e9, total - warmCalls,
          cpu, serverCpuSeconds);
    }

    /** One sender's share of the timetable, run on its event loop. */
    private final class Tick implements Runnable {
      private final Sender sender;
      private final int stride;
      private long next;

      Tick(Sender sender, int first, int stride) {
        this.sender = sender;
        this.next = first;
        this.stride = stride;
      }

      void schedule() {
        if (next >= total) {
          allSent.countDown();
          return;
        }
        long wait = schedule.due(next) - System.nanoTime();
        sender.loop().schedule(this, Math.max(0, wait), TimeUnit.NANOSECONDS);
      }

      @Override
      public void run() {
        try {
          long now = System.nanoTime();
          while (next < total && schedule.due(next) <= now) {
            if (!inFlight.tryAcquire()) {
              // At the in-flight cap: look again shortly; the calls stay charged from their slots.
              sender.loop().schedule(this, 100, TimeUnit.MICROSECONDS);
              return;
            }
            long i = next;
            next += stride;
            long due = schedule.due(i);
            LatencyStats stats = i < warmCalls ? warm : measured;
            if (stats == measured && cpuStart.get() == Long.MIN_VALUE
                && cpuStart.compareAndSet(Long.MIN_VALUE, processCpuNanos())) {
              // The first measured call, on whichever sender: the measured phase starts here.
              serverStart.set(serverCpu.getAsLong());
              current.set(measured);
            }
            int call = plan.nextCall();
            long sentAt = System.nanoTime();
            CompletableFuture<SearchResponse> f;
            try {
              f = sender.searcher().search(plan.request(call));
            } catch (RuntimeException e) {
              f = CompletableFuture.failedFuture(e);
            }
            LevelRecall scored = stats == measured ? recall : null;
            f.whenComplete((r, t) -> {
              record(stats, scored, call, due, sentAt, r, t);
              inFlight.release();
            });
            now = System.nanoTime();
          }
          schedule();
        } catch (RuntimeException e) {
          allSent.countDown(); // the run() waiting on the latch reports the shortfall
          throw e;
        }
      }
    }
  }

  // ------------------------------------------------------------------ shared

  /** Calls of the timetable after its {@code warmCalls} that the measured phase sends. */
  private long measuredCalls(OpenLoopSchedule schedule, long warmCalls) {
    long n = schedule.callsWithin(settings.warmup().plus(settings.duration()).toNanos())
        - warmCalls;
    return settings.maxRequests() > 0 ? Math.min(n, settings.maxRequests()) : n;
  }

  private CompletableFuture<SearchResponse> send(int call) {
    try {
      return searcher.search(plan.request(call));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Records a completed call; {@code recall} is null in a warm-up, whose answers are not scored. */
  private void record(LatencyStats stats, LevelRecall recall, int call, long intended, long sent,
      SearchResponse r, Throwable t) {
    long done = System.nanoTime();
    if (t == null) {
      stats.success(intended, sent, done, plan.batch());
      if (recall != null) {
        recall.answered(plan.rows(call), r);
      }
    } else {
      stats.failure(intended, sent, done, code(t));
      if (recall != null) {
        recall.failed(plan.rows(call));
      }
    }
  }

  private static Throwable failure(CompletableFuture<?> f) {
    try {
      f.get();
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return e;
    }
  }

  /** The gRPC status code of a failed call. */
  static Status.Code code(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof CodebookException ce) {
      return ce.code();
    }
    return Status.fromThrowable(c).getCode();
  }

  private static double cpuSeconds(long from, long to) {
    return from < 0 || to < 0 ? Double.NaN : (to - from) / 1e9;
  }

  /**
   * CPU time used so far by the process {@code pid} on this machine, in nanoseconds, or -1 where
   * the OS does not say (Linux reads it from /proc at 10 ms resolution).
   */
  public static LongSupplier processCpu(long pid) {
    return () -> ProcessHandle.of(pid).flatMap(p -> p.info().totalCpuDuration())
        .map(Duration::toNanos).orElse(-1L);
  }

  /** CPU time of this process so far, or a negative value where unknown. */
  static long processCpuNanos() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  private static ScheduledExecutorService timer() {
    return Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "loadtest-timer");
      t.setDaemon(true);
      return t;
    });
  }

  private ScheduledFuture<?> progressTicker(ScheduledExecutorService timer, long t0,
      java.util.function.Supplier<LatencyStats> current, LatencyStats warm, String label) {
    long[] last = {t0};
    LatencyStats[] previous = {null};
    return timer.scheduleAtFixedRate(() -> {
      long now = System.nanoTime();
      LatencyStats s = current.get();
      long calls = s.drain();
      if (previous[0] != null && previous[0] != s) {
        // The phase changed within this second: its answers count too (else the line at the
        // warm-up/measurement boundary shows next to nothing).
        calls += previous[0].drain();
      }
      previous[0] = s;
      double qps = calls * plan.batch() / ((now - last[0]) / 1e9);
      last[0] = now;
      double p99 = s.latencyMs(99);
      progress.accept(String.format(Locale.ROOT,
          "%s %5.1f s%s %,9.0f QPS  p99 %8s ms  errors %,d", label, (now - t0) / 1e9,
          s == warm ? " warm-up" : "", qps,
          Double.isNaN(p99) ? "-" : String.format(Locale.ROOT, "%.3f", p99), s.errorCount()));
    }, 1, 1, TimeUnit.SECONDS);
  }

  static String fmt(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
