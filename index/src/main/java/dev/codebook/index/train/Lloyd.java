package dev.codebook.index.train;

import dev.codebook.index.util.ParallelFor;
import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.VectorUtil;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state of one clustering: sample, centroids and assignments. It polls its progress for
 * every chunk of points it assigns and every k-means++ centroid it picks, so that a large
 * clustering, or a PQ sub-space trained on one thread, stops soon after a cancel.
 */
final class Lloyd {
  private final KernelSupport kernels = VectorKernels.support();
  private final ParallelFor workers;
  private final TrainingProgress progress;
  private final float[] x;
  private final int n;
  private final int d;
  private final int k;
  private final boolean spherical;
  private final int chunks;

  final float[] centroids;
  private final float[] centroidNorms;
  /**
   * {@code -2 * centroids}, transposed per block: centroid {@code c} of the block starting at
   * {@code c0} (length {@code len}) has component {@code j} at {@code c0 * d + j * len + c - c0}.
   */
  private final float[] blocksT;
  /** Squared norms of the points, for the objective of the {@code ||c||^2 - 2x.c} ranking. */
  private final double[] pointNorms;
  final int[] assign;
  private final double[] chunkObjective;
  private final int[] counts;

  Lloyd(FloatMatrix sample, int k, boolean spherical, ParallelFor workers,
      TrainingProgress progress) {
    this.workers = workers;
    this.progress = progress;
    this.x = sample.data();
    this.n = sample.rows();
    this.d = sample.dim();
    this.k = k;
    this.spherical = spherical;
    this.chunks = (n + KMeans.CHUNK - 1) / KMeans.CHUNK;
    this.centroids = new float[Math.multiplyExact(k, d)];
    this.centroidNorms = new float[k];
    this.blocksT = new float[k * d];
    this.pointNorms = new double[n];
    this.assign = new int[n];
    this.chunkObjective = new double[chunks];
    this.counts = new int[k];
    // Only the reported objective needs them: plain float64 loops.
    workers.run(chunks, chunk -> {
      for (int i = chunk * KMeans.CHUNK, end = Math.min(n, i + KMeans.CHUNK); i < end; i++) {
        double sum = 0;
        for (int j = i * d, e = j + d; j < e; j++) {
          sum += (double) x[j] * x[j];
        }
        pointNorms[i] = sum;
      }
    });
  }

  void initRandom(SplittableRandom rng) {
    int[] picks = KMeans.partialShuffle(n, k, rng);
    for (int c = 0; c < k; c++) {
      System.arraycopy(x, picks[c] * d, centroids, c * d, d);
    }
  }

  /**
   * k-means++ on a subsample. The subsample is stored transposed per chunk, so that the distances
   * from each new centroid to all points are one {@link KernelSupport#squareDistancesTransposed}
   * per chunk with the lanes across points, whatever the dimension.
   */
  void initPlusPlus(SplittableRandom rng) {
    long cap = (long) k * KMeans.PLUS_PLUS_POINTS_PER_CENTROID;
    int m = (int) Math.min(n, cap);
    int[] rows;
    if (m == n) {
      rows = new int[n];
      Arrays.setAll(rows, i -> i);
    } else {
      rows = KMeans.partialShuffle(n, m, rng);
      Arrays.sort(rows);
    }
    int ppChunks = (m + KMeans.CHUNK - 1) / KMeans.CHUNK;
    float[] pointsT = new float[Math.multiplyExact(m, d)];
    workers.run(ppChunks, chunk -> {
      int p0 = chunk * KMeans.CHUNK;
      int len = Math.min(m, p0 + KMeans.CHUNK) - p0;
      int base = p0 * d;
      for (int i = 0; i < len; i++) {
        int src = rows[p0 + i] * d;
        for (int j = 0; j < d; j++) {
          pointsT[base + j * len + i] = x[src + j];
        }
      }
    });
    float[] minDist = new float[m];
    Arrays.fill(minDist, Float.POSITIVE_INFINITY);
    double[] chunkSum = new double[ppChunks];
    float[] center = new float[d];
    int pick = rng.nextInt(m);
    for (int c = 0; ; c++) {
      System.arraycopy(x, rows[pick] * d, centroids, c * d, d);
      if (c == k - 1) {
        return;
      }
      progress.poll();
      System.arraycopy(x, rows[pick] * d, center, 0, d);
      workers.run(ppChunks, chunk -> {
        int p0 = chunk * KMeans.CHUNK;
        int len = Math.min(m, p0 + KMeans.CHUNK) - p0;
        float[] dist = new float[len];
        kernels.squareDistancesTransposed(center, 0, pointsT, p0 * d, d, len, dist, 0);
        double sum = 0;
        for (int i = 0; i < len; i++) {
          float v = Math.min(minDist[p0 + i], dist[i]);
          minDist[p0 + i] = v;
          sum += v;
        }
        chunkSum[chunk] = sum;
      });
      double total = 0;
      for (double s : chunkSum) {
        total += s;
      }
      if (!(total > 0)) {
        // Fewer distinct points than centroids: duplicates now, split apart by the repair.
        pick = rng.nextInt(m);
        continue;
      }
      pick = drawProportional(minDist, chunkSum, rng.nextDouble() * total);
    }
  }

  /** The point whose interval of cumulative weight holds {@code r}. */
  private static int drawProportional(float[] weights, double[] chunkSum, double r) {
    int chunk = 0;
    while (chunk < chunkSum.length - 1 && r >= chunkSum[chunk]) {
      r -= chunkSum[chunk++];
    }
    int end = Math.min(weights.length, (chunk + 1) * KMeans.CHUNK);
    int lastPositive = -1;
    for (int i = chunk * KMeans.CHUNK; i < end; i++) {
      if (weights[i] > 0) {
        lastPositive = i;
        r -= weights[i];
        if (r < 0) {
          return i;
        }
      }
    }
    // Rounding left r just past the chunk's last weight.
    return lastPositive >= 0 ? lastPositive : chunk * KMeans.CHUNK;
  }

  /** Refreshes what the assignment step derives from the centroids. */
  void centroidsChanged() {
    if (spherical) {
      for (int c = 0; c < k; c++) {
        normalize(centroids, c * d, d);
      }
    }
    for (int c0 = 0; c0 < k; c0 += KMeans.CENTROID_BLOCK) {
      int len = Math.min(KMeans.CENTROID_BLOCK, k - c0);
      for (int c = c0; c < c0 + len; c++) {
        float norm = 0;
        for (int j = 0, src = c * d, dst = c0 * d + c - c0; j < d; j++, dst += len) {
          float v = centroids[src + j];
          norm += v * v;
          blocksT[dst] = -2 * v;
        }
        centroidNorms[c] = norm;
      }
    }
  }

  /** Scales a centroid to unit length; a zero centroid has no direction and stays. */
  private static void normalize(float[] v, int off, int len) {
    double norm2 = 0;
    for (int j = 0; j < len; j++) {
      norm2 += (double) v[off + j] * v[off + j];
    }
    if (norm2 > 0) {
      double inv = 1.0 / Math.sqrt(norm2);
      for (int j = 0; j < len; j++) {
        v[off + j] = (float) (v[off + j] * inv);
      }
    }
  }

  /** Assigns every point to its nearest centroid; returns the objective. */
  double assign() {
    workers.run(chunks, chunk -> {
      progress.poll();
      assignChunk(chunk);
    });
    double total = 0;
    for (double s : chunkObjective) {
      total += s;
    }
    return total;
  }

  private void assignChunk(int chunk) {
    int p0 = chunk * KMeans.CHUNK;
    int end = Math.min(n, p0 + KMeans.CHUNK);
    int last = end - 1;
    float[] scores = new float[4 * Math.min(k, KMeans.CENTROID_BLOCK)];
    float[] best = new float[end - p0];
    Arrays.fill(best, Float.POSITIVE_INFINITY);
    for (int c0 = 0; c0 < k; c0 += KMeans.CENTROID_BLOCK) {
      int len = Math.min(KMeans.CENTROID_BLOCK, k - c0);
      for (int p = p0; p < end; p += 4) {
        // A short last group repeats its last point; the extra rows are dropped.
        int lanes = Math.min(4, end - p);
        kernels.dotProductsTransposed4(
            x, p * d, Math.min(p + 1, last) * d, Math.min(p + 2, last) * d,
            Math.min(p + 3, last) * d, blocksT, c0 * d, d, len, centroidNorms, c0, scores, 0);
        for (int r = 0; r < lanes; r++) {
          int c = kernels.argMin(scores, r * len, len);
          float score = scores[r * len + c];
          // Strictly less: on ties the earlier block, so the lowest centroid number, wins.
          if (score < best[p + r - p0]) {
            best[p + r - p0] = score;
            assign[p + r] = c0 + c;
          }
        }
      }
    }
    double objective = 0;
    for (int i = p0; i < end; i++) {
      objective += Math.max(0.0, pointNorms[i] + best[i - p0]);
    }
    chunkObjective[chunk] = objective;
  }

  /**
   * Moves each centroid to the mean of its points, summed in double in point order; empty
   * clusters keep their centroid until {@link #splitEmptyClusters} replaces it.
   */
  void update() {
    Arrays.fill(counts, 0);
    for (int i = 0; i < n; i++) {
      counts[assign[i]]++;
    }
    int[] start = new int[k + 1];
    for (int c = 0; c < k; c++) {
      start[c + 1] = start[c] + counts[c];
    }
    int[] members = new int[n];
    int[] fill = Arrays.copyOf(start, k);
    for (int i = 0; i < n; i++) {
      members[fill[assign[i]]++] = i;
    }
    // Each centroid is summed on one thread, so this split may follow the thread count.
    int perTask = Math.max(1, k / (4 * workers.threads()));
    workers.run((k + perTask - 1) / perTask, task -> {
      double[] sum = new double[d];
      for (int c = task * perTask, end = Math.min(k, c + perTask); c < end; c++) {
        if (counts[c] == 0) {
          continue;
        }
        Arrays.fill(sum, 0);
        for (int e = start[c]; e < start[c + 1]; e++) {
          int off = members[e] * d;
          for (int j = 0; j < d; j++) {
            sum[j] += x[off + j];
          }
        }
        double inv = 1.0 / counts[c];
        for (int j = 0; j < d; j++) {
          centroids[c * d + j] = (float) (sum[j] * inv);
        }
      }
    });
  }

  /**
   * FAISS's repair: each empty cluster takes a copy of a cluster drawn with probability
   * proportional to its size minus one, the two copies are pushed apart by {@link KMeans#SPLIT_EPS}
   * in opposite directions, and the next assignment divides the points between them.
   */
  int splitEmptyClusters(SplittableRandom rng) {
    int splits = 0;
    double denominator = Math.max(1, n - k);
    for (int ci = 0; ci < k; ci++) {
      if (counts[ci] != 0) {
        continue;
      }
      int cj = 0;
      while (true) {
        double p = (counts[cj] - 1.0) / denominator;
        if (rng.nextDouble() < p) {
          break;
        }
        cj = (cj + 1) % k;
      }
      int a = ci * d;
      int b = cj * d;
      System.arraycopy(centroids, b, centroids, a, d);
      for (int j = 0; j < d; j++) {
        float up = (j & 1) == 0 ? 1 + KMeans.SPLIT_EPS : 1 - KMeans.SPLIT_EPS;
        float down = (j & 1) == 0 ? 1 - KMeans.SPLIT_EPS : 1 + KMeans.SPLIT_EPS;
        centroids[a + j] *= up;
        centroids[b + j] *= down;
      }
      counts[ci] = counts[cj] / 2;
      counts[cj] -= counts[ci];
      splits++;
    }
    return splits;
  }
}
