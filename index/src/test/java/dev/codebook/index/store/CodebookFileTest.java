package dev.codebook.index.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.codebook.index.ivf.CoarseQuantizer;
import dev.codebook.index.ivf.PreselectorCalibration;
import dev.codebook.index.ivf.IvfPqCodebook;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Codebook files of every version open; the pre-selector's PQ is stored from version 1. */
class CodebookFileTest {

  /**
   * {@code store/codebook-v0-ivf1024/codebook_1} was written by codebook file version 0 for
   * IVF1024,PQ4x4fs over 8 dimensions (the index of {@code ivf1024-pq4x4fs-v2.cbi}). Reading it
   * trains the pre-selector as opening did then; written again, the current version stores that
   * PQ and reads it back unchanged.
   */
  @Test
  void aVersionZeroCodebookOpensAndKeepsItsPreselectorOnceRewritten(@TempDir Path tmp)
      throws Exception {
    Path old = tmp.resolve("old");
    Files.createDirectories(old);
    try (var in = getClass().getResourceAsStream("/store/codebook-v0-ivf1024/codebook_1")) {
      Files.copy(in, old.resolve("codebook_1"));
    }
    IvfPqCodebook v0;
    try (Directory d = FSDirectory.open(old)) {
      v0 = CodebookFile.read(d, 1);
    }
    CoarseQuantizer coarse = v0.coarse();
    assertEquals(1024, coarse.nlist());
    assertNotNull(coarse.preselectorPq());
    assertEquals(CoarseQuantizer.build(coarse.centroids(), coarse.innerProduct())
        .preselectorPq(), coarse.preselectorPq());

    Path now = tmp.resolve("now");
    Files.createDirectories(now);
    IvfPqCodebook current;
    try (Directory d = FSDirectory.open(now)) {
      CodebookFile.write(d, 2, v0);
      current = CodebookFile.read(d, 2);
    }
    assertEquals(v0.pq(), current.pq());
    assertEquals(v0.coarse().preselectorPq(), current.coarse().preselectorPq());
    // A file written before calibration keeps what it did then: 128 candidates at least, at
    // every nprobe the ratio allows.
    assertEquals(PreselectorCalibration.UNCALIBRATED, current.coarse().calibration());
    // The flag, m' and nbits' (1 + 2 bytes), the PQ's floats, the calibration (VInt 128: 2
    // bytes; VInt Integer.MAX_VALUE: 5).
    assertEquals(Files.size(old.resolve("codebook_1"))
        + 1 + 2 + 4L * v0.coarse().preselectorPq().centroids().length + 2 + 5,
        Files.size(now.resolve("codebook_2")));
  }
}
