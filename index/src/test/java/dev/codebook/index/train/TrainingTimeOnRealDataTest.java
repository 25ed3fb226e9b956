package dev.codebook.index.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.vector.FloatMatrix;
import io.jhdf.HdfFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Times the two trainers of {@code IVF256,PQ32} on the Debian MiniLM set (28,000 x 384) with two
 * threads, for comparison with FAISS's training time on the same machine. Slow and data-dependent,
 * so it runs only with {@code -Dcodebook.slow=true} ({@code bin/slow-tests}) and when the file is
 * present; it prints timings and checks only that the results are sane.
 */
class TrainingTimeOnRealDataTest {

  private static final int THREADS = 2;

  private static Path dataset() {
    String shared = System.getProperty("codebook.shared", "../../shared");
    return Path.of(shared, "data", "debian-minilm-384-angular.hdf5");
  }

  private static FloatMatrix readTrain(Path path) {
    try (HdfFile hdf = new HdfFile(path)) {
      float[][] rows = (float[][]) hdf.getDatasetByPath("/train").getData();
      int d = rows[0].length;
      float[] flat = new float[rows.length * d];
      for (int i = 0; i < rows.length; i++) {
        System.arraycopy(rows[i], 0, flat, i * d, d);
      }
      return new FloatMatrix(rows.length, d, flat);
    }
  }

  @Test
  void ivf256Pq32TrainingTime() {
    assumeTrue(Boolean.getBoolean("codebook.slow"), "slow: bin/slow-tests runs it");
    Path path = dataset();
    assumeTrue(Files.isRegularFile(path), path + " is absent: the 28k debian set is not here");
    FloatMatrix train = readTrain(path);
    System.out.printf(Locale.ROOT, "kernels=%s, %d x %d, %d threads%n",
        VectorKernels.support().name(), train.rows(), train.dim(), THREADS);

    for (int run = 0; run < 3; run++) {
      long t0 = System.nanoTime();
      KMeans.Result coarse =
          KMeans.train(train, 256, KMeans.Params.defaults().withThreads(THREADS));
      double kmeansS = (System.nanoTime() - t0) / 1e9;

      long t1 = System.nanoTime();
      ProductQuantizer pq =
          PqTrainer.train(train, 32, 8, PqTrainer.Params.defaults().withThreads(THREADS));
      double pqS = (System.nanoTime() - t1) / 1e9;

      long t2 = System.nanoTime();
      byte[] codes = pq.encodeAll(train, THREADS);
      double encodeS = (System.nanoTime() - t2) / 1e9;

      System.out.printf(Locale.ROOT,
          "run %d: KMeans k=256 (20 it) %.2f s, objective %.2f -> %.2f; PQ32x8 (25 it) %.2f s;"
              + " encode %.2f s; relative reconstruction error %.4f%n",
          run, kmeansS, coarse.objective()[0], coarse.finalObjective(), pqS, encodeS,
          relativeError(pq, train, codes));
      assertEquals(256, coarse.k());
      assertTrue(coarse.finalObjective() < coarse.objective()[0]);
    }
  }

  /** Sum of squared reconstruction errors over the sum of squared norms. */
  private static double relativeError(ProductQuantizer pq, FloatMatrix x, byte[] codes) {
    float[] rec = new float[x.dim()];
    double err = 0, norm = 0;
    for (int i = 0; i < x.rows(); i++) {
      pq.decode(codes, i * pq.m(), rec, 0);
      for (int j = 0; j < x.dim(); j++) {
        double v = x.data()[i * x.dim() + j];
        err += (v - rec[j]) * (v - rec[j]);
        norm += v * v;
      }
    }
    return err / norm;
  }
}
