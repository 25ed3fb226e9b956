package dev.codebook.server.job;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs background jobs on a small pool of their own (never on a gRPC thread) and remembers
 * them: every running job and the most recent {@value #RETAINED_FINISHED} finished ones.
 *
 * <p>A job's work receives its {@link Job}: it reports progress to it ({@link
 * Job#onStep}) and polls {@link Job#cancelRequested()} at its own check points, throwing
 * {@link CancellationException} to stop. Its return value is the job's result; a
 * CancellationException makes it CANCELLED, any other exception FAILED.
 */
public final class JobRegistry implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(JobRegistry.class);

  /** Finished jobs kept for GetOperation; older ones are forgotten. */
  public static final int RETAINED_FINISHED = 1000;

  private final ExecutorService pool;
  private final Clock clock;
  private final AtomicLong sequence = new AtomicLong();
  /** In start order; guarded by this. */
  private final LinkedHashMap<String, Job> jobs = new LinkedHashMap<>();

  /** Told of every job when it starts and when it ends. */
  private final Consumer<Job> changes;

  /**
   * @param threads jobs that run at once; more wait (RUNNING, phase "queued")
   * @param lastSequence the largest job number used before (by an earlier run): jobs are
   *     numbered after it, so names are not reused
   * @param changes called with each job when it is submitted (RUNNING, on the submitting thread)
   *     and when it ends (on the job's thread), e.g. to record it; must not throw
   */
  public JobRegistry(int threads, long lastSequence, Consumer<Job> changes) {
    this(threads, Clock.systemUTC(), lastSequence, changes);
  }

  JobRegistry(int threads, Clock clock) {
    this(threads, clock, 0, job -> {});
  }

  private JobRegistry(int threads, Clock clock, long lastSequence,
      Consumer<Job> changes) {
    this.pool =
        Executors.newFixedThreadPool(threads, new DefaultThreadFactory("codebook-job", true));
    this.clock = clock;
    this.sequence.set(lastSequence);
    this.changes = changes;
  }

  /**
   * Starts a job unless one of the same kind is running on the same collection.
   *
   * @param phases the work's phases, see {@link Job}
   * @param busy thrown (from the caller's thread) if such a job is running
   * @return the job, RUNNING
   */
  public Job submit(Job.Kind kind, String collection, List<String> phases,
      Function<Job, Object> work, java.util.function.Supplier<RuntimeException> busy) {
    Job job;
    synchronized (this) {
      for (Job j : jobs.values()) {
        if (j.kind() == kind && j.collection().equals(collection) && !j.snapshot().done()) {
          throw busy.get();
        }
      }
      long seq = sequence.incrementAndGet();
      String id = kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + "-" + seq;
      job = new Job(seq, id, kind, collection, phases, clock.instant());
      jobs.put(id, job);
      forgetOldFinished();
    }
    Job j = job;
    changes.accept(j);
    j.completion().thenAccept(changes);
    try {
      pool.execute(() -> run(j, work));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      j.fail(new IllegalStateException("the server is shutting down"), clock.instant());
    }
    return job;
  }

  private void run(Job job, Function<Job, Object> work) {
    if (job.cancelRequested()) {
      job.cancelled(new CancellationException("cancelled before it started"), clock.instant());
      return;
    }
    LOG.info("{} started", job);
    // No longer "queued", though the work's first step may be a while away (sampling, setup).
    job.phase("started");
    try {
      Object result = work.apply(job);
      job.succeed(result, clock.instant());
    } catch (CancellationException e) {
      job.cancelled(e, clock.instant());
    } catch (RuntimeException | Error e) {
      job.fail(e, clock.instant());
    }
    Job.Snapshot s = job.snapshot();
    if (s.state() == Job.State.FAILED) {
      LOG.warn("{} failed: {}", job, s.error().toString());
    } else {
      LOG.info("{} ended in {} ms", job,
          s.endTime().toEpochMilli() - job.startTime().toEpochMilli());
    }
  }

  /** The job of that id. */
  public synchronized Job get(String id) {
    Job j = jobs.get(id);
    if (j == null) {
      throw new JobNotFoundException(Job.NAME_PREFIX + id);
    }
    return j;
  }

  /**
   * Up to {@code limit} jobs created before the job numbered {@code before} ({@link
   * Job#sequence}), newest first, only {@code collection}'s unless it is null: a page of a
   * listing that stays stable while new jobs start (they are newer than any page).
   */
  public synchronized List<Job> list(String collection, long before, int limit) {
    List<Job> all = new ArrayList<>(jobs.values());
    List<Job> out = new ArrayList<>();
    for (int i = all.size() - 1; i >= 0 && out.size() < limit; i--) {
      Job j = all.get(i);
      if (j.sequence() < before && (collection == null || j.collection().equals(collection))) {
        out.add(j);
      }
    }
    return out;
  }

  /** Asks the job to stop; a finished job is left as it is. */
  public Job cancel(String id) {
    Job j = get(id);
    if (!j.snapshot().done()) {
      j.requestCancel();
      LOG.info("{}: cancel requested", j);
    }
    return j;
  }

  /** Jobs not finished yet. */
  public synchronized int running() {
    int n = 0;
    for (Job j : jobs.values()) {
      if (!j.snapshot().done()) {
        n++;
      }
    }
    return n;
  }

  private void forgetOldFinished() {
    int finished = 0;
    for (Job j : jobs.values()) {
      if (j.snapshot().done()) {
        finished++;
      }
    }
    for (Iterator<Map.Entry<String, Job>> it = jobs.entrySet().iterator();
        it.hasNext() && finished > RETAINED_FINISHED; ) {
      if (it.next().getValue().snapshot().done()) {
        it.remove();
        finished--;
      }
    }
  }

  /**
   * Cancels every running job and waits up to {@code millis} for the workers to stop (they stop
   * at their next check point).
   */
  @Override
  public void close() {
    close(5_000);
  }

  public void close(long millis) {
    List<Job> running;
    synchronized (this) {
      running = new ArrayList<>(jobs.values());
    }
    for (Job j : running) {
      if (!j.snapshot().done()) {
        j.requestCancel();
      }
    }
    pool.shutdown();
    try {
      if (!pool.awaitTermination(millis, TimeUnit.MILLISECONDS)) {
        pool.shutdownNow();
      }
    } catch (InterruptedException e) {
      pool.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
