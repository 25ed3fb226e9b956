package dev.codebook.server.job;

import dev.codebook.index.train.TrainingProgress;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * One background job (a long-running operation): what it works on, where it is, and how it
 * ended. Thread-safe: the job's worker writes, any gRPC thread reads.
 *
 * <p><b>Progress.</b> The job is also the {@link TrainingProgress} sink of its work. The work's
 * phases are known up front (e.g. {@code OPQ}, {@code k-means}, {@code PQ}, {@code encode}) and
 * weighted equally: a step of phase {@code i} of {@code n} at {@code step/steps} is progress
 * {@code (i + step/steps) / n}. A step whose task matches no phase keeps the fraction and only
 * changes the phase text. The fraction never goes back. Before the first step the phase text is
 * {@code "queued"} until a job thread takes the job, then {@code "started"}.
 */
public final class Job implements TrainingProgress {

  /** What a job does. */
  public enum Kind {
    BUILD_INDEX
  }

  /** Where a job is in its life; every state but RUNNING is final. */
  public enum State {
    RUNNING,
    SUCCEEDED,
    FAILED,
    CANCELLED
  }

  /** Resource name prefix: a job's name is {@code operations/{id}}. */
  public static final String NAME_PREFIX = "operations/";

  private final long sequence;
  private final String id;
  private final Kind kind;
  private final String collection;
  private final List<String> phases;
  private final Instant startTime;
  private final CompletableFuture<Job> completion = new CompletableFuture<>();

  // Guarded by this.
  private State state = State.RUNNING;
  private double progress;
  private String phase = "queued";
  private Instant endTime;
  private Throwable error;
  private Object result;

  private volatile boolean cancelRequested;

  /**
   * @param phases task-name prefixes of the work's phases, in order, e.g. {@code ["k-means",
   *     "PQ", "encode"]}
   */
  Job(long sequence, String id, Kind kind, String collection, List<String> phases,
      Instant startTime) {
    this.sequence = sequence;
    this.id = id;
    this.kind = kind;
    this.collection = collection;
    this.phases = List.copyOf(phases);
    this.startTime = startTime;
  }

  /** Order of creation in its registry: later jobs have larger numbers. */
  public long sequence() {
    return sequence;
  }

  public String id() {
    return id;
  }

  /** {@code operations/{id}}. */
  public String name() {
    return NAME_PREFIX + id;
  }

  public Kind kind() {
    return kind;
  }

  /** The collection's resource name. */
  public String collection() {
    return collection;
  }

  public Instant startTime() {
    return startTime;
  }

  /** Completes (with this job) when the job reaches a final state. */
  public CompletableFuture<Job> completion() {
    return completion;
  }

  /** Whether {@link JobRegistry#cancel} was called; the work polls it. */
  public boolean cancelRequested() {
    return cancelRequested;
  }

  void requestCancel() {
    cancelRequested = true;
  }

  /** A consistent copy of the mutable fields. */
  public synchronized Snapshot snapshot() {
    return new Snapshot(state, progress, phase, endTime, error, result, cancelRequested);
  }

  /**
   * The mutable part of a job at one moment.
   *
   * @param error why it FAILED or how it was CANCELLED; null otherwise
   * @param result what the work returned, when SUCCEEDED
   */
  public record Snapshot(State state, double progress, String phase, Instant endTime,
      Throwable error, Object result, boolean cancelRequested) {
    public boolean done() {
      return state != State.RUNNING;
    }
  }

  @Override
  public void onStep(String task, int step, int steps, double objective) {
    int i = phaseOf(task);
    String text = String.format(Locale.ROOT, "%s: %d/%d", task, step, steps);
    synchronized (this) {
      if (state != State.RUNNING) {
        return;
      }
      phase = text;
      if (i >= 0 && steps > 0) {
        progress = Math.max(progress, (i + Math.min(1.0, (double) step / steps)) / phases.size());
      }
    }
  }

  /** Sets the phase text without a step, e.g. {@code "snapshot"}. */
  synchronized void phase(String text) {
    if (state == State.RUNNING) {
      phase = text;
    }
  }

  private int phaseOf(String task) {
    for (int i = 0; i < phases.size(); i++) {
      if (task.startsWith(phases.get(i))) {
        return i;
      }
    }
    return -1;
  }

  void succeed(Object value, Instant now) {
    finish(State.SUCCEEDED, null, value, now);
  }

  void fail(Throwable t, Instant now) {
    finish(State.FAILED, t, null, now);
  }

  void cancelled(Throwable t, Instant now) {
    finish(State.CANCELLED, t, null, now);
  }

  private void finish(State end, Throwable t, Object value, Instant now) {
    synchronized (this) {
      if (state != State.RUNNING) {
        return;
      }
      state = end;
      error = t;
      result = value;
      endTime = now;
      if (end == State.SUCCEEDED) {
        progress = 1.0;
        phase = "done";
      }
    }
    completion.complete(this);
  }

  @Override
  public String toString() {
    Snapshot s = snapshot();
    return name() + " (" + kind + " " + collection + ", " + s.state() + ")";
  }
}
