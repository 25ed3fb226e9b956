package dev.codebook.index.ivf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.search.BatchSearch;
import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.apache.lucene.index.CorruptIndexException;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A saved index loads into one that answers every query identically; damage is detected. */
class IvfPqIndexFormatTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "IVF8,PQ8", "IVF8,PQ8x4fsr,RFlat", "PQ4x4fs", "IVF4,PQ16,RFlat", "OPQ8,IVF8,PQ8,RFlat",
      "OPQ4,PQ8x4fs"})
  void roundTripAnswersIdentically(String spec, @TempDir Path dir) throws Exception {
    Random r = new Random(spec.hashCode());
    FloatMatrix base = IvfPqIndexTest.mixture(r, 700, 32, 3);
    FloatMatrix queries = IvfPqIndexTest.mixture(r, 20, 32, 3);
    IvfPqIndex index = (IvfPqIndex) IndexFactory.create(IndexSpec.parse(spec), 32,
        Similarity.COSINE, base, IvfPqIndexTest.OPTS);
    index.add(base);
    Path file = dir.resolve("index.cbi");
    IvfPqIndexFormat.write(index, file);
    IvfPqIndex loaded = IvfPqIndexFormat.read(file,
        d -> new MappedRawVectors(dir.resolve("raw.f32"), d));
    assertEquals(index.size(), loaded.size());
    assertEquals(index.spec(), loaded.spec());
    assertEquals(index.pq(), loaded.pq());
    assertEquals(index.rotation(), loaded.rotation());
    SearchParams p = new SearchParams(index.nlist() > 1 ? 3 : 1, 4);
    SearchResults a = BatchSearch.search(index, queries, 10, p, 1);
    SearchResults b = BatchSearch.search(loaded, queries, 10, p, 1);
    assertArrayEquals(a.ids(), b.ids());
    // Up to rounding: a JIT recompile between the two searches may reorder SIMD lane sums.
    assertArrayEquals(a.scores(), b.scores(), 1e-5f);
  }

  @org.junit.jupiter.api.Test
  void readsAVersionOneFileWithContiguousEightBitCodes(@TempDir Path dir) throws Exception {
    // Written by format version 1 (8-bit codes stored m bytes a vector, before the 64-vector
    // blocks of version 2) from 600 Gaussian rows, seed 5, IVF4,PQ4, L2, build seed 7.
    Path file = dir.resolve("v1.cbi");
    try (var in = getClass().getResourceAsStream("ivf4-pq4-v1.cbi")) {
      Files.copy(in, file);
    }
    IvfPqIndex loaded = IvfPqIndexFormat.read(file, d -> null);
    Random r = new Random(5);
    float[] x = new float[600 * 16];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    FloatMatrix base = new FloatMatrix(600, 16, x);
    IvfPqIndex rebuilt = (IvfPqIndex) IndexFactory.create(IndexSpec.parse("IVF4,PQ4"), 16,
        Similarity.EUCLIDEAN, base, new IndexFactory.BuildOptions(7, 1, s -> {}));
    rebuilt.add(base);
    assertEquals(600, loaded.size());
    assertEquals(rebuilt.pq(), loaded.pq());
    for (int l = 0; l < 4; l++) {
      assertEquals(rebuilt.listSize(l), loaded.listSize(l));
      for (int pos = 0; pos < loaded.listSize(l); pos++) {
        assertEquals(rebuilt.idAt(l, pos), loaded.idAt(l, pos));
        for (int s = 0; s < 4; s++) {
          assertEquals(rebuilt.codeAt(l, pos, s), loaded.codeAt(l, pos, s), "list " + l);
        }
      }
    }
    FloatMatrix queries = new FloatMatrix(10, 16, Arrays.copyOf(x, 160));
    SearchParams p = new SearchParams(2, 1);
    assertArrayEquals(BatchSearch.search(rebuilt, queries, 5, p, 1).ids(),
        BatchSearch.search(loaded, queries, 5, p, 1).ids());
  }

  /**
   * Written by format version 2 (before the pre-selector's PQ was stored) from 6,000 Gaussian rows
   * of 8 dimensions, seed 11, IVF1024,PQ4x4fs, L2, build seed 7; the expected answers are those
   * version 2 gave for 30 further Gaussian rows of the same generator at nprobe 1, 4, 16 and 64.
   * Opening trains the pre-selector as opening did then, and the answers are the same.
   */
  @org.junit.jupiter.api.Test
  void aVersionTwoFileWithAPreselectorOpensAndSearchesAsItDid(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("v2.cbi");
    try (var in = getClass().getResourceAsStream("ivf1024-pq4x4fs-v2.cbi")) {
      Files.copy(in, file);
    }
    IvfPqIndex loaded = IvfPqIndexFormat.read(file, d -> null);
    assertEquals(6000, loaded.size());
    assertTrue(loaded.coarse().preselects(1), "1,024 lists pre-select");
    Random r = new Random(11);
    for (int i = 0; i < 6000 * 8; i++) {
      r.nextGaussian();
    }
    float[] qx = new float[30 * 8];
    for (int i = 0; i < qx.length; i++) {
      qx[i] = (float) r.nextGaussian();
    }
    FloatMatrix queries = new FloatMatrix(30, 8, qx);
    java.util.List<String> expected;
    try (var in = getClass().getResourceAsStream("ivf1024-pq4x4fs-v2.expected.txt")) {
      expected = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines()
          .toList();
    }
    int line = 0;
    for (int nprobe : new int[] {1, 4, 16, 64}) {
      assertEquals("nprobe " + nprobe, expected.get(line++));
      SearchResults res = BatchSearch.search(loaded, queries, 10, new SearchParams(nprobe, 1), 1);
      for (int q = 0; q < 30; q++) {
        StringBuilder ids = new StringBuilder();
        for (int j = 0; j < 10; j++) {
          ids.append(j == 0 ? "" : " ").append(res.id(q, j));
        }
        assertEquals(expected.get(line++), ids.toString(), "nprobe " + nprobe + " query " + q);
      }
    }
    // Saved again, in the current version, the pre-selector's PQ is stored and read back as is.
    Path again = dir.resolve("v3.cbi");
    IvfPqIndexFormat.write(loaded, again);
    IvfPqIndex reloaded = IvfPqIndexFormat.read(again, d -> null);
    assertEquals(loaded.coarse().preselectorPq(), reloaded.coarse().preselectorPq());
    for (int nprobe : new int[] {1, 16}) {
      SearchParams p = new SearchParams(nprobe, 1);
      assertArrayEquals(BatchSearch.search(loaded, queries, 10, p, 1).ids(),
          BatchSearch.search(reloaded, queries, 10, p, 1).ids());
    }
  }

  @org.junit.jupiter.api.Test
  void theBuildTrainsThePreselectorAndTheFileKeepsIt(@TempDir Path dir) throws Exception {
    Random r = new Random(3);
    FloatMatrix base = IvfPqIndexTest.mixture(r, 3000, 16, 40);
    IvfPqIndex index = (IvfPqIndex) IndexFactory.create(IndexSpec.parse("IVF1024,PQ4x4fs"), 16,
        Similarity.DOT_PRODUCT, base, IvfPqIndexTest.OPTS);
    assertTrue(index.coarse().preselectorPq() != null, "trained with the index");
    assertEquals(CentroidPreselector.train(index.coarse().centroids()),
        index.coarse().preselectorPq());
    index.add(base);
    Path file = dir.resolve("index.cbi");
    IvfPqIndexFormat.write(index, file);
    IvfPqIndex loaded = IvfPqIndexFormat.read(file, d -> null);
    assertEquals(index.coarse().preselectorPq(), loaded.coarse().preselectorPq());
    FloatMatrix queries = IvfPqIndexTest.mixture(r, 20, 16, 40);
    SearchParams p = new SearchParams(8, 1);
    assertArrayEquals(BatchSearch.search(index, queries, 10, p, 1).ids(),
        BatchSearch.search(loaded, queries, 10, p, 1).ids());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 7, 40, 300, -20, -3})
  void aFlippedByteAnywhereIsCorruption(int where, @TempDir Path dir) throws Exception {
    Path file = saved(dir);
    byte[] bytes = Files.readAllBytes(file);
    int i = where >= 0 ? where : bytes.length + where;
    bytes[i] ^= 0x10;
    Files.write(file, bytes);
    CorruptIndexException e = assertThrows(CorruptIndexException.class,
        () -> IvfPqIndexFormat.read(file, HeapRawVectors::new));
    assertTrue(e.getMessage().contains("index.cbi"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 17, 100, 2000})
  void aTruncatedFileIsCorruption(int cut, @TempDir Path dir) throws Exception {
    Path file = saved(dir);
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, Math.max(0, bytes.length - cut)));
    Exception e = assertThrows(java.io.IOException.class,
        () -> IvfPqIndexFormat.read(file, HeapRawVectors::new));
    assertTrue(e instanceof CorruptIndexException || e instanceof java.io.EOFException,
        e.toString());
    assertTrue(e.getMessage().contains("index.cbi"), e.getMessage());
  }

  private static Path saved(Path dir) throws Exception {
    Random r = new Random(1);
    FloatMatrix base = IvfPqIndexTest.mixture(r, 300, 16, 3);
    IvfPqIndex index = (IvfPqIndex) IndexFactory.create(IndexSpec.parse("IVF4,PQ4,RFlat"), 16,
        Similarity.EUCLIDEAN, base, IvfPqIndexTest.OPTS);
    index.add(base);
    Path file = dir.resolve("index.cbi");
    IvfPqIndexFormat.write(index, file);
    return file;
  }
}
