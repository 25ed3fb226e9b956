package dev.codebook.index.train;

import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Receives a trainer's progress: a build job forwards it to its long-running operation, a CLI
 * prints it. Trainers call it from their worker threads (a {@link PqTrainer} trains sub-spaces in
 * parallel), so implementations must be thread-safe and quick.
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

  /** Formats each step as one line, e.g. {@code "k-means k=256 d=384: 3/20 objective 1.2345e+04"}. */
  static TrainingProgress lines(Consumer<String> sink) {
    Objects.requireNonNull(sink, "sink");
    return (task, step, steps, objective) ->
        sink.accept(
            String.format(Locale.ROOT, "%s: %d/%d objective %.5g", task, step, steps, objective));
  }
}
