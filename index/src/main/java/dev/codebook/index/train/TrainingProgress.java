package dev.codebook.index.train;

import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Receives a trainer's progress: a build job forwards it to its long-running operation, a CLI
 * prints it. Trainers call it from their worker threads (a {@link PqTrainer} trains sub-spaces in
 * parallel), so implementations must be thread-safe and quick.
 *
 * <p>It is also how a training is stopped: a receiver that throws an unchecked exception from
 * {@link #onStep} or {@link #poll} (a cancelled build throws {@link
 * java.util.concurrent.CancellationException}) ends the training with that exception, and the
 * trainers' worker pools close on the way out. Steps can be long (a k-means iteration over many
 * points, a PQ sub-space), so trainers also {@linkplain #poll poll} between much smaller pieces
 * of work.
 */
@FunctionalInterface
public interface TrainingProgress {

  /** Ignores everything. */
  TrainingProgress NONE = (task, step, steps, objective) -> {};

  /**
   * One step of a task is done.
   *
   * @param task what is trained, e.g. {@code "k-means k=256 d=384"} or {@code "PQ32x8"}
   * @param step steps done so far, from 1
   * @param steps steps in the task
   * @param objective the task's loss after this step (the k-means objective: the sum of squared
   *     distances of the training points to their centroids), NaN when the step has none
   */
  void onStep(String task, int step, int steps, double objective);

  /**
   * Called between pieces of work much shorter than a step (a Lloyd iteration of one PQ
   * sub-space, a chunk of rows, a phase of an OPQ outer iteration), so that a receiver can stop
   * the training without waiting for the next step; see the class comment. Does nothing by
   * default.
   */
  default void poll() {}

  /**
   * A receiver that turns every step and poll into a poll of {@code outer}: for an inner
   * training whose steps are not steps of the caller's task (a PQ sub-space's k-means) but are
   * still points where the training can stop.
   */
  static TrainingProgress pollsOnly(TrainingProgress outer) {
    Objects.requireNonNull(outer, "outer");
    return new TrainingProgress() {
      @Override
      public void onStep(String task, int step, int steps, double objective) {
        outer.poll();
      }

      @Override
      public void poll() {
        outer.poll();
      }
    };
  }

  /**
   * Formats each step that has an objective as one line, e.g. {@code "k-means k=256 d=384: 3/20
   * objective 1.2345e+04"}. Steps without one (NaN) only mark progress inside a task, and an OPQ
   * training has thousands of them, so they are not written.
   */
  static TrainingProgress lines(Consumer<String> sink) {
    Objects.requireNonNull(sink, "sink");
    return (task, step, steps, objective) -> {
      if (!Double.isNaN(objective)) {
        sink.accept(
            String.format(Locale.ROOT, "%s: %d/%d objective %.5g", task, step, steps, objective));
      }
    };
  }
}
