package dev.codebook.index.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.vector.FloatMatrix;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The PQ trainer runs one k-means per sub-space: the same seed gives the same quantizer on any
 * number of threads, each sub-space gets the centroids k-means finds for it alone, and shapes
 * FAISS rejects are rejected with FAISS-style messages.
 */
class PqTrainerTest {

  static PqTrainer.Params params(int threads) {
    return PqTrainer.Params.defaults().withSeed(17).withThreads(threads).withIterations(8);
  }

  @Test
  void sameSeedGivesTheSameQuantizerOnAnyNumberOfThreads() {
    FloatMatrix x = KMeansTest.gaussian(1, 1500, 42);
    ProductQuantizer one = PqTrainer.train(x, 6, 8, params(1));
    // 2 and 3 threads train sub-spaces in parallel; 8 threads > m=6 parallelize inside k-means.
    for (int threads : new int[] {2, 3, 8}) {
      assertEquals(one, PqTrainer.train(x, 6, 8, params(threads)), threads + " threads");
    }
    assertNotEquals(one, PqTrainer.train(x, 6, 8, params(1).withSeed(18)));
  }

  @Test
  void eachSubspaceIsClusteredOnItsOwnColumns() {
    // Sub-space 0 holds four tight clusters, sub-space 1 is a constant: with ksub=16 the first
    // gets centroids on the four clusters, the second only copies of the constant.
    FloatMatrix x = FloatMatrix.allocate(400, 4);
    for (int i = 0; i < 400; i++) {
      int cluster = i % 4;
      x.data()[i * 4] = 10 * cluster + 0.001f * (i % 7);
      x.data()[i * 4 + 1] = -5 * cluster;
      x.data()[i * 4 + 2] = 3;
      x.data()[i * 4 + 3] = 3;
    }
    ProductQuantizer pq = PqTrainer.train(x, 2, 4, params(2));
    byte[] codes = pq.encodeAll(x, 1);
    float[] rec = new float[4];
    // Within 0.1 of the cluster 10 apart: a centroid split in the last iteration keeps FAISS's
    // perturbation of 1/1024 of its value (0.03 at 30), as FAISS does not average it again.
    for (int i = 0; i < 400; i++) {
      pq.decode(codes, i * 2, rec, 0);
      assertEquals(x.data()[i * 4], rec[0], 0.1, "row " + i);
      assertEquals(x.data()[i * 4 + 1], rec[1], 0.1, "row " + i);
      assertEquals(3, rec[2], 0.1);
      assertEquals(3, rec[3], 0.1);
    }
  }

  @Test
  void oneDimensionPerSubspaceReconstructsAlmostExactly() {
    FloatMatrix x = KMeansTest.gaussian(2, 3000, 8);
    ProductQuantizer pq = PqTrainer.train(x, 8, 8, params(2));
    assertEquals(1, pq.dsub());
    byte[] codes = pq.encodeAll(x, 2);
    float[] rec = new float[8];
    for (int i = 0; i < x.rows(); i++) {
      pq.decode(codes, i * 8, rec, 0);
      for (int j = 0; j < 8; j++) {
        assertEquals(x.data()[i * 8 + j], rec[j], 0.1, "256 levels per dimension");
      }
    }
  }

  @Test
  void oddDimensionsAndFourBitCodes() {
    FloatMatrix x = KMeansTest.gaussian(3, 800, 7 * 13);
    ProductQuantizer pq = PqTrainer.train(x, 7, 4, params(2));
    assertEquals(91, pq.dimension());
    assertEquals(13, pq.dsub());
    assertEquals(16, pq.ksub());
    assertEquals(4, pq.codeSize());
    for (byte b : pq.encodeAll(x, 2)) {
      assertTrue((b & 0xFF) < 16);
    }
  }

  @Test
  void progressIsReportedOncePerSubspace() {
    List<String> lines = Collections.synchronizedList(new ArrayList<>());
    PqTrainer.train(
        KMeansTest.gaussian(4, 300, 12), 3, 4,
        params(2).withProgress(TrainingProgress.lines(lines::add)));
    assertEquals(3, lines.size());
    for (int i = 0; i < 3; i++) {
      assertTrue(lines.get(i).startsWith("PQ3x4: " + (i + 1) + "/3 objective "), lines.get(i));
    }
  }

  @Test
  void theSubspacesKMeansPollTheProgressSoAThrowStopsItBeforeASubspaceEnds() {
    FloatMatrix x = KMeansTest.gaussian(4, 300, 12);
    AtomicInteger polls = new AtomicInteger();
    List<Integer> steps = Collections.synchronizedList(new ArrayList<>());
    PqTrainer.train(x, 3, 4, params(2).withProgress(new TrainingProgress() {
      @Override
      public void onStep(String task, int step, int total, double objective) {
        steps.add(step);
      }

      @Override
      public void poll() {
        polls.incrementAndGet();
      }
    }));
    assertEquals(3, steps.size());
    // At least once per k-means iteration of every sub-space.
    assertTrue(polls.get() >= 3 * 8, polls.get() + " polls");

    steps.clear();
    assertThrows(CancellationException.class, () -> PqTrainer.train(x, 3, 4,
        params(2).withProgress(new TrainingProgress() {
          @Override
          public void onStep(String task, int step, int total, double objective) {
            steps.add(step);
          }

          @Override
          public void poll() {
            throw new CancellationException("stop");
          }
        })));
    assertEquals(List.of(), steps);
  }

  @Test
  void badInputIsRejectedWithAClearMessage() {
    FloatMatrix x = KMeansTest.gaussian(5, 300, 384);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PqTrainer.train(x, 7, 8, params(1)));
    assertEquals("PQ7: m=7 does not divide the dimension 384", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PqTrainer.train(x, 32, 5, params(1)));
    assertEquals("PQ32x5: nbits must be 4 or 8, got 5", e.getMessage());
    e = assertThrows(
        IllegalArgumentException.class, () -> PqTrainer.train(x.head(100), 32, 8, params(1)));
    assertEquals("PQ32: training needs at least ksub=256 vectors, got 100", e.getMessage());
    x.data()[384 * 9] = Float.POSITIVE_INFINITY;
    e = assertThrows(IllegalArgumentException.class, () -> PqTrainer.train(x, 32, 4, params(1)));
    assertEquals(
        "training vector 9 has a non-finite value Infinity at dimension 0", e.getMessage());
  }
}
