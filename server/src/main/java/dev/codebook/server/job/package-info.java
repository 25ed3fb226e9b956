/**
 * Background jobs, the server's long-running operations ({@code google.longrunning.Operation}
 * through {@code OperationService}): today an index build. {@link
 * dev.codebook.server.job.JobRegistry} runs them on a small pool of its own, never on a gRPC
 * thread, and remembers the running ones and the most recent finished ones; a {@link
 * dev.codebook.server.job.Job} is one operation's state (phase, progress fraction that never goes
 * back, result or error) and the training-progress sink of its work.
 *
 * <p>Cancellation is cooperative: the work polls {@link
 * dev.codebook.server.job.Job#cancelRequested()} (the trainers poll it through their progress
 * sink) and throws {@link java.util.concurrent.CancellationException} to stop, which ends the job
 * CANCELLED; any other exception ends it FAILED.
 *
 * <p>Threading: a job's worker writes its state, any gRPC thread reads it; both classes are
 * thread-safe.
 */
package dev.codebook.server.job;
