/**
 * Trainers: seeded, static-style procedures that turn a training sample into an immutable
 * codebook, after FAISS's {@code Clustering}, {@code ProductQuantizer::train} and {@code
 * OPQMatrix::train}. {@link dev.codebook.index.train.KMeans} (Lloyd with FAISS's subsampling and
 * empty-cluster repair, optionally spherical), {@link dev.codebook.index.train.PqTrainer} (one
 * k-means per sub-space) and {@link dev.codebook.index.train.OpqTrainer} (alternating PQ training
 * and an orthogonal Procrustes step). Indexes receive what these return and never train
 * implicitly.
 *
 * <p>Determinism: a trainer's output depends on its inputs and seed only, never on the thread
 * count: work is cut into fixed numbered chunks, each writes its own slot, and slots are combined
 * in chunk order; the kernels used have no horizontal sums whose order could vary with the JIT.
 *
 * <p>Progress and cancellation: a {@link dev.codebook.index.train.TrainingProgress} receives
 * steps from worker threads; throwing from it (a cancelled build job throws {@link
 * java.util.concurrent.CancellationException}) stops the training, which closes its worker pool
 * on the way out.
 *
 * <p>Threading: each call owns its worker pool for its duration; trainers keep no state between
 * calls.
 */
package dev.codebook.index.train;
