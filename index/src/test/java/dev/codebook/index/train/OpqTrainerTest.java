package dev.codebook.index.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.quant.OpqRotation;
import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.vector.FloatMatrix;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

/**
 * OPQ learns a rotation that makes the data easier to product-quantize: on data whose variance
 * sits in a few directions mixed over all dimensions it reconstructs clearly better than plain
 * PQ, its error never goes up from one outer iteration to the next, and the same seed gives the
 * same rotation and quantizer on any number of threads. It reports progress from its start and
 * stops soon after its progress receiver throws, also in its long first PQ.
 */
class OpqTrainerTest {

  static final int D = 32;
  static final int M = 8;

  static OpqTrainer.Params params(int threads) {
    return OpqTrainer.Params.defaults()
        .withSeed(17).withThreads(threads).withIterations(8).withFirstPqIterations(10);
  }

  /**
   * Gaussian data whose standard deviation falls by 0.75 per coordinate (most of the variance in
   * the first eight), turned by a random rotation so every coordinate mixes them, plus an offset
   * of 2 so the data is not centered.
   */
  static FloatMatrix concentrated(long seed, int rows, int dim) {
    Random rnd = new Random(seed);
    FloatMatrix z = FloatMatrix.allocate(rows, dim);
    for (int i = 0; i < rows; i++) {
      double sigma = 4;
      for (int j = 0; j < dim; j++, sigma *= 0.75) {
        z.data()[i * dim + j] = (float) (sigma * rnd.nextGaussian());
      }
    }
    FloatMatrix x = OpqRotation.random(dim, seed + 1).applyAll(z, 1);
    for (int i = 0; i < x.data().length; i++) {
      x.data()[i] += 2;
    }
    return x;
  }

  /** Mean over the rows of the squared distance to their PQ reconstruction. */
  static double mse(ProductQuantizer pq, FloatMatrix x) {
    byte[] codes = pq.encodeAll(x, 2);
    float[] rec = new float[x.dim()];
    double sum = 0;
    for (int i = 0; i < x.rows(); i++) {
      pq.decode(codes, i * pq.m(), rec, 0);
      for (int j = 0; j < x.dim(); j++) {
        double t = (double) x.data()[x.offset(i) + j] - rec[j];
        sum += t * t;
      }
    }
    return sum / x.rows();
  }

  static double mse(OpqTrainer.Result r, FloatMatrix x) {
    return mse(r.pq(), r.rotation().applyAll(x, 2));
  }

  @Test
  void opqReconstructsClearlyBetterThanPlainPqOnMixedUnbalancedData() {
    FloatMatrix x = concentrated(1, 4000, D);
    // Plain PQ gets as many k-means iterations as OPQ's PQ does in all (10 + 7 * 4).
    ProductQuantizer pq = PqTrainer.train(x, M, 4,
        PqTrainer.Params.defaults().withSeed(17).withThreads(2).withIterations(38));
    OpqTrainer.Result opq = OpqTrainer.train(x, M, 4, params(2));
    double plain = mse(pq, x);
    double optimized = mse(opq, x);
    assertTrue(optimized < 0.9 * plain, "OPQ " + optimized + " vs PQ " + plain);
  }

  @Test
  void errorDoesNotIncreaseFromOneOuterIterationToTheNext() {
    List<Double> errors = Collections.synchronizedList(new ArrayList<>());
    FloatMatrix x = concentrated(2, 3000, D);
    OpqTrainer.Result r = OpqTrainer.train(x, M, 4,
        params(2).withIterations(12).withProgress(errorsTo(errors)));
    assertEquals(12, errors.size());
    for (int i = 1; i < errors.size(); i++) {
      assertTrue(errors.get(i) <= errors.get(i - 1) * (1 + 1e-5),
          "iteration " + (i + 1) + ": " + errors.get(i) + " after " + errors.get(i - 1));
    }
    assertTrue(errors.get(11) < 0.9 * errors.get(0), "the rotation is learned: " + errors);
    // The returned pair is the one the last error was measured on, on the uncentered data.
    assertEquals(errors.get(11), mse(r, x), 1e-4 * errors.get(11));
  }

  @Test
  void theProcrustesStepRecoversARotationThatMapsXOntoY() {
    // Y = X Q^T for a known rotation Q: the best rotation of X onto Y is Q itself.
    int d = 13;
    FloatMatrix x = KMeansTest.gaussian(3, 200, d);
    OpqRotation q = OpqRotation.random(d, 4);
    FloatMatrix y = q.applyAll(x, 1);
    DMatrixRMaj xty = new DMatrixRMaj(d, d);
    for (int i = 0; i < x.rows(); i++) {
      for (int a = 0; a < d; a++) {
        for (int b = 0; b < d; b++) {
          xty.add(a, b, (double) x.data()[i * d + a] * y.data()[i * d + b]);
        }
      }
    }
    float[] found = OpqTrainer.procrustes(xty, "test").matrix();
    assertArrayEquals(q.matrix(), found, 1e-5f);
  }

  @Test
  void sameSeedGivesTheSameResultOnAnyNumberOfThreads() {
    FloatMatrix x = concentrated(4, 1500, D);
    OpqTrainer.Result one = OpqTrainer.train(x, M, 4, params(1).withIterations(3));
    for (int threads : new int[] {2, 3}) {
      OpqTrainer.Result many = OpqTrainer.train(x, M, 4, params(threads).withIterations(3));
      assertEquals(one.rotation(), many.rotation(), threads + " threads");
      assertEquals(one.pq(), many.pq(), threads + " threads");
    }
    OpqTrainer.Result other = OpqTrainer.train(x, M, 4, params(1).withIterations(3).withSeed(18));
    assertNotEquals(one.rotation(), other.rotation());
  }

  @Test
  void trainsOnASampleOfAtMostMaxTrainingPointsAndEightBitCodes() {
    FloatMatrix x = concentrated(5, 3000, 24);
    List<Double> errors = new ArrayList<>();
    OpqTrainer.Result r = OpqTrainer.train(x, 6, 8,
        params(2).withIterations(3).withMaxTrainingPoints(1000)
            .withProgress(errorsTo(errors)));
    assertEquals(24, r.rotation().dimension());
    assertEquals(6, r.pq().m());
    assertEquals(256, r.pq().ksub());
    // 1000 rows for 256 centroids fit the sample closely; the other 2000 rows do worse.
    assertTrue(mse(r, x) > errors.get(2), mse(r, x) + " on all rows vs " + errors);
  }

  /** Receives the errors of the outer iterations, the steps that have an objective. */
  static TrainingProgress errorsTo(List<Double> errors) {
    return (task, step, steps, mse) -> {
      if (!Double.isNaN(mse)) {
        errors.add(mse);
      }
    };
  }

  @Test
  void progressCountsSubspacePassesAndReportsTheErrorAtTheEndOfEachOuterIteration() {
    List<int[]> steps = Collections.synchronizedList(new ArrayList<>());
    List<Integer> withError = Collections.synchronizedList(new ArrayList<>());
    List<String> lines = Collections.synchronizedList(new ArrayList<>());
    TrainingProgress asLines = TrainingProgress.lines(lines::add);
    OpqTrainer.Params p = params(2).withIterations(3).withPqIterations(2);
    OpqTrainer.train(concentrated(6, 500, D), M, 4, p.withProgress((task, step, total, mse) -> {
      assertEquals("OPQ8", task);
      steps.add(new int[] {step, total});
      if (!Double.isNaN(mse)) {
        withError.add(step);
      }
      asLines.onStep(task, step, total, mse);
    }));
    // 8 sub-spaces times 10 + 1 passes, then 2 + 2 + 1 twice.
    int total = 8 * (10 + 1 + 2 * (2 + 2));
    assertEquals(total, p.steps(M));
    for (int i = 0; i < steps.size(); i++) {
      assertEquals(total, steps.get(i)[1]);
      assertTrue(i == 0 || steps.get(i)[0] > steps.get(i - 1)[0], "steps go forward");
    }
    // Each Lloyd iteration of a sub-space of the first PQ is a step: progress starts at once.
    assertEquals(1, steps.get(0)[0]);
    assertEquals(List.of(8 * 11, 8 * 15, total), withError);
    assertEquals(3, lines.size(), "lines only for the steps with an error: " + lines);
    assertTrue(lines.get(2).startsWith("OPQ8: " + total + "/" + total + " objective "));
  }

  /**
   * Big enough that the first PQ (40 k-means iterations of 48 sub-spaces of 256 centroids) takes
   * seconds on two threads: long enough for a trainer that neither reports nor polls inside it
   * to miss the bounds below.
   */
  static FloatMatrix large() {
    return concentrated(7, 20_000, 384);
  }

  /** Stops the training by throwing once {@code cancelled} is set, as a cancelled build does. */
  static TrainingProgress cancellable(AtomicBoolean cancelled, List<Double> stepsBefore) {
    return new TrainingProgress() {
      @Override
      public void onStep(String task, int step, int steps, double mse) {
        poll();
        stepsBefore.add(mse);
      }

      @Override
      public void poll() {
        if (cancelled.get()) {
          throw new CancellationException("cancelled");
        }
      }
    };
  }

  @Test
  void theFirstStepArrivesInsideTheFirstPqAndACancelThereStopsBothThreadsAtOnce() {
    AtomicBoolean cancelled = new AtomicBoolean();
    List<Double> steps = Collections.synchronizedList(new ArrayList<>());
    AtomicLong cancelAt = new AtomicLong();
    TrainingProgress inner = cancellable(cancelled, steps);
    // Cancels at the first step, from whichever worker thread reports it.
    TrainingProgress progress = new TrainingProgress() {
      @Override
      public void onStep(String task, int step, int total, double mse) {
        if (cancelAt.get() == 0) {
          assertTrue(Double.isNaN(mse) && step < OpqTrainer.DEFAULT_FIRST_PQ_ITERATIONS * 48,
              "the first step, " + step + "/" + total + " mse " + mse + ", is inside the first PQ");
          cancelAt.set(System.nanoTime());
          cancelled.set(true);
        }
        inner.onStep(task, step, total, mse);
      }

      @Override
      public void poll() {
        inner.poll();
      }
    };
    FloatMatrix x = large();
    assertThrows(CancellationException.class, () -> OpqTrainer.train(x, 48, 8,
        OpqTrainer.Params.defaults().withThreads(2).withProgress(progress)));
    double seconds = (System.nanoTime() - cancelAt.get()) / 1e9;
    assertTrue(seconds < 2, "stopped " + seconds + " s after the cancel");
  }

  @Test
  void aCancelAtAnyTimeStopsTheTrainingWithinASecondOrTwo() throws Exception {
    FloatMatrix x = large();
    AtomicBoolean cancelled = new AtomicBoolean();
    AtomicLong cancelAt = new AtomicLong();
    List<Double> steps = Collections.synchronizedList(new ArrayList<>());
    // One second in is inside the first PQ, which used to run to its end before the first check.
    Thread canceller = new Thread(() -> {
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        return;
      }
      cancelAt.set(System.nanoTime());
      cancelled.set(true);
    });
    canceller.start();
    CancellationException e = assertThrows(CancellationException.class, () -> OpqTrainer.train(
        x, 48, 8, OpqTrainer.Params.defaults().withThreads(2)
            .withProgress(cancellable(cancelled, steps))));
    double seconds = (System.nanoTime() - cancelAt.get()) / 1e9;
    canceller.join();
    assertEquals("cancelled", e.getMessage());
    assertTrue(seconds < 2, "stopped " + seconds + " s after the cancel");
  }

  @Test
  void badInputIsRejectedWithAClearMessage() {
    FloatMatrix x = KMeansTest.gaussian(5, 300, 384);
    IllegalArgumentException e = assertThrows(
        IllegalArgumentException.class, () -> OpqTrainer.train(x, 7, 8, params(1)));
    assertEquals("OPQ7: m=7 does not divide the dimension 384", e.getMessage());
    e = assertThrows(
        IllegalArgumentException.class, () -> OpqTrainer.train(x, 32, 5, params(1)));
    assertEquals("PQ32x5: nbits must be 4 or 8, got 5", e.getMessage());
    e = assertThrows(
        IllegalArgumentException.class, () -> OpqTrainer.train(x.head(100), 32, 8, params(1)));
    assertEquals("OPQ32: training needs at least ksub=256 vectors, got 100", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> OpqTrainer.train(x, 32, 8, params(1).withMaxTrainingPoints(200)));
    assertEquals("OPQ32: maxTrainingPoints=200 is below ksub=256", e.getMessage());
    e = assertThrows(
        IllegalArgumentException.class, () -> params(1).withIterations(0));
    assertEquals("iterations must be >= 1, got 0", e.getMessage());
    x.data()[384 * 9] = Float.POSITIVE_INFINITY;
    e = assertThrows(
        IllegalArgumentException.class, () -> OpqTrainer.train(x, 32, 4, params(1)));
    assertEquals(
        "training vector 9 has a non-finite value Infinity at dimension 0", e.getMessage());
  }
}
