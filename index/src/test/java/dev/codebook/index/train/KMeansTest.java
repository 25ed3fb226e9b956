package dev.codebook.index.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.train.KMeans.Init;
import dev.codebook.index.vector.FloatMatrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * k-means finds the clusters that are there, never makes its objective worse, and gives the same
 * centroids for the same seed on any number of threads. Dimensions and k cover the kernel's bodies
 * (32 and 16 centroids per pass, scalar tail), several centroid blocks and short last groups.
 */
class KMeansTest {

  /** {@code k} centers spread far apart, and {@code perBlob} points around each, shuffled. */
  static final class Blobs {
    final float[] centers;
    final int[] label;
    final FloatMatrix points;

    Blobs(long seed, int k, int perBlob, int dim, double spread, double noise) {
      Random r = new Random(seed);
      centers = new float[k * dim];
      for (int i = 0; i < centers.length; i++) {
        centers[i] = (float) (spread * r.nextGaussian());
      }
      int n = k * perBlob;
      label = new int[n];
      for (int i = 0; i < n; i++) {
        label[i] = i % k;
      }
      for (int i = n - 1; i > 0; i--) {
        int j = r.nextInt(i + 1);
        int t = label[i];
        label[i] = label[j];
        label[j] = t;
      }
      points = FloatMatrix.allocate(n, dim);
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < dim; j++) {
          points.data()[i * dim + j] =
              centers[label[i] * dim + j] + (float) (noise * r.nextGaussian());
        }
      }
    }
  }

  static FloatMatrix gaussian(long seed, int rows, int dim) {
    Random r = new Random(seed);
    FloatMatrix m = FloatMatrix.allocate(rows, dim);
    for (int i = 0; i < m.data().length; i++) {
      m.data()[i] = (float) r.nextGaussian();
    }
    return m;
  }

  static KMeans.Params params(int threads) {
    return KMeans.Params.defaults().withThreads(threads).withSeed(42);
  }

  static double squareDistance(float[] a, int aOff, float[] b, int bOff, int d) {
    double s = 0;
    for (int j = 0; j < d; j++) {
      double t = (double) a[aOff + j] - b[bOff + j];
      s += t * t;
    }
    return s;
  }

  static int nearest(float[] centroids, int k, float[] v, int off, int d) {
    int best = 0;
    double bestDist = Double.POSITIVE_INFINITY;
    for (int c = 0; c < k; c++) {
      double dist = squareDistance(centroids, c * d, v, off, d);
      if (dist < bestDist) {
        bestDist = dist;
        best = c;
      }
    }
    return best;
  }

  @ParameterizedTest
  @CsvSource({"1,5", "7,8", "13,12", "32,16", "33,10", "207,9", "384,16", "16,300"})
  void recoversWellSeparatedBlobsOneCentroidEach(int dim, int k) {
    Blobs blobs = new Blobs(dim * 31L + k, k, 50, dim, 10.0, 0.1);
    KMeans.Result r = KMeans.train(blobs.points, k, params(2));

    float[] c = r.centroids().data();
    boolean[] taken = new boolean[k];
    for (int b = 0; b < k; b++) {
      int owner = nearest(c, k, blobs.centers, b * dim, dim);
      assertTrue(!taken[owner], "blob " + b + " shares centroid " + owner + " with another blob");
      taken[owner] = true;
      assertTrue(
          squareDistance(c, owner * dim, blobs.centers, b * dim, dim) < 0.01 * dim,
          "centroid " + owner + " is off the center of blob " + b);
    }
    // Points of one blob share one centroid.
    int[] centroidOfBlob = new int[k];
    Arrays.fill(centroidOfBlob, -1);
    for (int i = 0; i < blobs.points.rows(); i++) {
      int b = blobs.label[r.sample()[i]];
      if (centroidOfBlob[b] < 0) {
        centroidOfBlob[b] = r.assignments()[i];
      }
      assertEquals(centroidOfBlob[b], r.assignments()[i], "point " + i + " of blob " + b);
    }
  }

  @ParameterizedTest
  @CsvSource({"3,40", "24,40", "100,40", "5,300", "40,513"})
  void objectiveNeverIncreasesAndMatchesTheAssignments(int dim, int k) {
    FloatMatrix x = gaussian(dim, 3000, dim);
    KMeans.Result r = KMeans.train(x, k, params(2).withIterations(15));

    double[] obj = r.objective();
    assertEquals(15, obj.length);
    for (int i = 1; i < obj.length; i++) {
      assertTrue(obj[i] <= obj[i - 1] * (1 + 1e-6), "iteration " + i + ": " + Arrays.toString(obj));
    }
    assertTrue(obj[obj.length - 1] < obj[0], Arrays.toString(obj));

    // The last objective is the float64 sum of squared distances to the returned assignment,
    // and each assignment is the nearest final centroid.
    double expected = 0;
    float[] c = r.centroids().data();
    for (int i = 0; i < x.rows(); i++) {
      int a = r.assignments()[i];
      double dist = squareDistance(x.data(), i * dim, c, a * dim, dim);
      expected += dist;
      int best = nearest(c, k, x.data(), i * dim, dim);
      double bestDist = squareDistance(x.data(), i * dim, c, best * dim, dim);
      assertEquals(bestDist, dist, 1e-4 * Math.max(1, bestDist), "point " + i);
    }
    assertEquals(expected, r.finalObjective(), 1e-4 * expected);
  }

  @ParameterizedTest
  @EnumSource(Init.class)
  void sameSeedGivesIdenticalResultsOnAnyNumberOfThreads(Init init) {
    for (int[] shape : new int[][] {{12, 5}, {96, 5}, {10, 270}}) {
      int dim = shape[0], k = shape[1];
      // 2000 points, k=5, at most 300 per centroid: subsampled to 1500, in 6 chunks of 256;
      // k=270 spans two centroid blocks.
      FloatMatrix x = gaussian(7, 2000, dim);
      KMeans.Params p = params(1).withInit(init).withMaxPointsPerCentroid(300);
      KMeans.Result one = KMeans.train(x, k, p);
      for (int threads : new int[] {1, 2, 3}) {
        KMeans.Result r = KMeans.train(x, k, p.withThreads(threads));
        assertArrayEquals(one.centroids().data(), r.centroids().data(), threads + " threads");
        assertArrayEquals(one.sample(), r.sample());
        assertArrayEquals(one.assignments(), r.assignments());
        assertArrayEquals(one.objective(), r.objective());
      }
      KMeans.Result otherSeed = KMeans.train(x, k, p.withSeed(43));
      assertNotEquals(
          Arrays.toString(one.centroids().data()), Arrays.toString(otherSeed.centroids().data()));
    }
  }

  @Test
  void subsamplesToMaxPointsPerCentroidWithTheSeed() {
    FloatMatrix x = gaussian(3, 5000, 16);
    KMeans.Result r = KMeans.train(x, 4, params(2).withMaxPointsPerCentroid(100));

    int[] sample = r.sample();
    assertEquals(400, sample.length);
    assertEquals(400, r.assignments().length);
    for (int i = 1; i < sample.length; i++) {
      assertTrue(sample[i - 1] < sample[i], "ascending and distinct");
    }
    assertTrue(sample[0] >= 0 && sample[sample.length - 1] < 5000);
    assertArrayEquals(sample, KMeans.train(x, 4, params(1).withMaxPointsPerCentroid(100)).sample());

    KMeans.Result all = KMeans.train(x, 20, params(2));
    assertEquals(5000, all.sample().length, "5000 <= 20 * 256: no subsampling");
  }

  @Test
  void emptyClustersAreRepairedBySplittingLargeOnes() {
    // 30 distinct points, each 5 times: a random pick of 30 of the 150 rows almost surely takes
    // some point twice, leaving clusters empty until they are split off others.
    int distinct = 30, dim = 6;
    FloatMatrix base = gaussian(11, distinct, dim);
    FloatMatrix x = FloatMatrix.allocate(distinct * 5, dim);
    for (int i = 0; i < x.rows(); i++) {
      System.arraycopy(base.data(), (i % distinct) * dim, x.data(), i * dim, dim);
    }
    KMeans.Result r =
        KMeans.train(x, distinct, params(2).withInit(Init.RANDOM).withIterations(30));

    assertTrue(r.splits() > 0, "the random initialization picked no duplicate");
    int[] size = new int[distinct];
    for (int a : r.assignments()) {
      size[a]++;
    }
    for (int c = 0; c < distinct; c++) {
      assertEquals(5, size[c], "cluster " + c + ": each distinct point ends up alone");
    }
    assertEquals(0, r.finalObjective(), 1e-3);
  }

  @Test
  void kEqualToTheNumberOfPointsPutsEachPointInItsOwnCluster() {
    FloatMatrix x = gaussian(5, 64, 40);
    KMeans.Result r = KMeans.train(x, 64, params(1));
    int[] sorted = r.assignments().clone();
    Arrays.sort(sorted);
    for (int i = 0; i < 64; i++) {
      assertEquals(i, sorted[i]);
    }
    // ||x||^2 + ||c||^2 - 2 x.c cancels to rounding noise, not to 0.
    assertEquals(0, r.finalObjective(), 1e-3);
  }

  @Test
  void sphericalCentroidsHaveUnitLength() {
    FloatMatrix x = gaussian(9, 1000, 48);
    KMeans.Result r = KMeans.train(x, 10, params(2).withSpherical(true));
    float[] c = r.centroids().data();
    for (int i = 0; i < 10; i++) {
      double norm2 = squareDistance(c, i * 48, new float[48], 0, 48);
      assertEquals(1.0, norm2, 1e-5, "centroid " + i);
    }
    double[] obj = r.objective();
    for (int i = 1; i < obj.length; i++) {
      assertTrue(obj[i] <= obj[i - 1] * (1 + 1e-6), Arrays.toString(obj));
    }
  }

  @Test
  void pollsForEveryPickAndChunkSoThatAThrowStopsItInsideAnIteration() {
    AtomicInteger polls = new AtomicInteger();
    List<Integer> steps = Collections.synchronizedList(new ArrayList<>());
    FloatMatrix x = gaussian(2, 1000, 8);
    KMeans.train(x, 10, params(2).withIterations(3).withProgress(new TrainingProgress() {
      @Override
      public void onStep(String task, int step, int total, double objective) {
        steps.add(step);
      }

      @Override
      public void poll() {
        polls.incrementAndGet();
      }
    }));
    // k-means++ polls before each of its 9 later picks; 4 assignments of 4 chunks of points.
    assertEquals(9 + 4 * 4, polls.get());
    assertEquals(List.of(1, 2, 3), steps);

    steps.clear();
    CancellationException e = assertThrows(CancellationException.class, () -> KMeans.train(
        x, 10, params(2).withIterations(3).withProgress(new TrainingProgress() {
          @Override
          public void onStep(String task, int step, int total, double objective) {
            steps.add(step);
          }

          @Override
          public void poll() {
            throw new CancellationException("stop");
          }
        })));
    assertEquals("stop", e.getMessage());
    assertEquals(List.of(), steps);
  }

  @Test
  void progressIsReportedAfterEveryIteration() {
    List<String> lines = new ArrayList<>();
    KMeans.Result r =
        KMeans.train(
            gaussian(1, 500, 8), 4,
            params(2).withIterations(3).withProgress(TrainingProgress.lines(lines::add)));
    assertEquals(3, lines.size());
    assertTrue(lines.get(0).startsWith("k-means k=4 d=8: 1/3 objective "), lines.get(0));
    assertTrue(lines.get(2).startsWith("k-means k=4 d=8: 3/3 objective "), lines.get(2));
    assertEquals(3, r.objective().length);
  }

  @Test
  void zeroIterationsReturnsTheInitialCentroids() {
    FloatMatrix x = gaussian(2, 100, 5);
    KMeans.Result r = KMeans.train(x, 3, params(1).withIterations(0).withInit(Init.RANDOM));
    assertEquals(0, r.objective().length);
    assertTrue(Double.isNaN(r.finalObjective()));
    for (int c = 0; c < 3; c++) {
      boolean isAPoint = false;
      for (int i = 0; i < 100 && !isAPoint; i++) {
        isAPoint = squareDistance(r.centroids().data(), c * 5, x.data(), i * 5, 5) == 0;
      }
      assertTrue(isAPoint, "centroid " + c + " is one of the points");
    }
  }

  @Test
  void badInputIsRejectedWithAClearMessage() {
    FloatMatrix x = gaussian(1, 200, 4);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> KMeans.train(x, 300, params(1)));
    assertEquals(
        "k-means: k=300 centroids need at least 300 training points, got 200", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> KMeans.train(x, 0, params(1)));
    assertEquals("k-means: k must be positive, got 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> params(0));
    assertEquals("threads must be positive, got 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> params(1).withIterations(-1));
    assertEquals("iterations must be >= 0, got -1", e.getMessage());

    x.data()[4 * 17 + 2] = Float.NaN;
    e = assertThrows(IllegalArgumentException.class, () -> KMeans.train(x, 3, params(1)));
    assertEquals("training vector 17 has a non-finite value NaN at dimension 2", e.getMessage());
  }
}
