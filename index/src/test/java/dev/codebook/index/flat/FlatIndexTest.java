package dev.codebook.index.flat;

import dev.codebook.index.SearchContext;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.search.BatchSearch;
import dev.codebook.index.SearchParams;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Flat search is exact: it returns what a float64 brute force over the same vectors returns. */
class FlatIndexTest {

  static FloatMatrix gaussian(Random r, int rows, int dim) {
    FloatMatrix m = FloatMatrix.allocate(rows, dim);
    for (int i = 0; i < m.data().length; i++) {
      m.data()[i] = (float) r.nextGaussian();
    }
    return m;
  }

  /** Top-k by float64 scores, ties to the lower id. */
  static int[] bruteForce(FloatMatrix base, float[] q, int k, Similarity sim) {
    int d = base.dim();
    double qn = 0;
    for (float x : q) {
      qn += (double) x * x;
    }
    double[] s = new double[base.rows()];
    for (int i = 0; i < base.rows(); i++) {
      double dot = 0, l2 = 0, bn = 0;
      for (int j = 0; j < d; j++) {
        double b = base.data()[i * d + j];
        dot += b * q[j];
        l2 += (b - q[j]) * (b - q[j]);
        bn += b * b;
      }
      s[i] = switch (sim) {
        case DOT_PRODUCT -> dot;
        case COSINE -> dot / Math.sqrt(bn * qn);
        case EUCLIDEAN -> -l2;
      };
    }
    return IntStream.range(0, base.rows()).boxed()
        .sorted(Comparator.<Integer>comparingDouble(i -> -s[i]).thenComparingInt(i -> i))
        .limit(k).mapToInt(Integer::intValue).toArray();
  }

  @ParameterizedTest
  @CsvSource({"1,DOT_PRODUCT", "7,COSINE", "13,EUCLIDEAN", "207,DOT_PRODUCT", "384,COSINE",
      "702,EUCLIDEAN"})
  void batchAndSingleSearchMatchFloat64BruteForce(int dim, Similarity sim) {
    Random r = new Random(dim * 13L + sim.ordinal());
    // 600 rows spans more than two tiles of 256; 9 queries leave a short group of four.
    FloatMatrix base = gaussian(r, 600, dim);
    FloatMatrix queries = gaussian(r, 9, dim);
    FlatIndex index = FlatIndex.of(base, sim);
    int k = dim == 1 ? 1 : 10; // in 1-d, ties in distance make only the first well defined
    SearchResults batch = BatchSearch.search(index, queries, k, SearchParams.DEFAULTS, 1);
    for (int q = 0; q < queries.rows(); q++) {
      int[] expected = bruteForce(base, queries.row(q), k, sim);
      assertArrayEquals(expected, batch.idsOf(q), "query " + q + " batched");
      SearchResults one = BatchSearch.search(
          index, single(queries, q), k,
          SearchParams.DEFAULTS, 1);
      assertArrayEquals(expected, one.idsOf(0), "query " + q + " alone");
    }
  }

  private static FloatMatrix single(FloatMatrix m, int row) {
    return new FloatMatrix(1, m.dim(), m.row(row));
  }

  @Test
  void threadsDoNotChangeTheAnswer() {
    Random r = new Random(5);
    FloatMatrix base = gaussian(r, 3000, 64);
    FloatMatrix queries = gaussian(r, 257, 64);
    FlatIndex index = FlatIndex.of(base, Similarity.EUCLIDEAN);
    SearchResults one = BatchSearch.search(index, queries, 10, SearchParams.DEFAULTS, 1);
    SearchResults two = BatchSearch.search(index, queries, 10, SearchParams.DEFAULTS, 2);
    SearchResults three = BatchSearch.search(index, queries, 10, SearchParams.DEFAULTS, 3);
    assertArrayEquals(one.ids(), two.ids());
    assertArrayEquals(one.ids(), three.ids());
    // A lone trailing query takes the one-query kernel, whose sum order differs in the last bit.
    assertArrayEquals(one.scores(), two.scores(), 1e-4f);
  }

  @Test
  void fewerVectorsThanKPadsWithMinusOne() {
    FlatIndex index = FlatIndex.of(new FloatMatrix(2, 2, new float[] {1, 0, 0, 1}),
        Similarity.DOT_PRODUCT);
    SearchResults res = BatchSearch.search(
        index, new FloatMatrix(1, 2, new float[] {1, 0.5f}), 5, SearchParams.DEFAULTS, 1);
    assertArrayEquals(new int[] {0, 1}, res.idsOf(0));
    assertEquals(-1, res.id(0, 2));
    assertEquals(1f, res.score(0, 0));
  }

  @Test
  void queriesAreNotModifiedByNormalization() {
    FlatIndex index = FlatIndex.of(new FloatMatrix(1, 2, new float[] {3, 4}), Similarity.COSINE);
    float[] q = {6, 8};
    SearchResults res = BatchSearch.search(index, new FloatMatrix(1, 2, q), 1,
        SearchParams.DEFAULTS, 1);
    assertArrayEquals(new float[] {6, 8}, q);
    assertEquals(1f, res.score(0, 0), 1e-6f);
    assertArrayEquals(new float[] {0.6f, 0.8f}, index.vector(0), 1e-6f);
  }

  @Test
  void badInputIsRejectedWithTheField() {
    FlatIndex index = new FlatIndex(4, Similarity.COSINE);
    IllegalArgumentException dims = assertThrows(IllegalArgumentException.class,
        () -> index.add(new FloatMatrix(1, 3, new float[3])));
    assertEquals("vectors: vector dimensions differ: 3!=4", dims.getMessage());
    float[] nan = {1, Float.NaN, 0, 0};
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> index.add(new FloatMatrix(1, 4, nan)));
    assertTrue(e.getMessage().contains("vectors[0] has a non-finite value NaN at dimension 1"),
        e.getMessage());
    assertEquals(0, index.size(), "a rejected batch adds nothing");
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
        () -> index.prepareQueries(new FloatMatrix(1, 4, new float[4])));
    assertTrue(zero.getMessage().contains("cannot be normalized"), zero.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> BatchSearch.search(index, new FloatMatrix(1, 4, new float[] {1, 0, 0, 0}), 0,
            SearchParams.DEFAULTS, 1));
  }

  @Test
  void aFilterReturnsTheExactTopKAmongAcceptedOrdinals() {
    Random r = new Random(77);
    FloatMatrix base = gaussian(r, 900, 24);
    FloatMatrix queries = gaussian(r, 6, 24);
    FlatIndex index = FlatIndex.of(base, Similarity.DOT_PRODUCT);
    FloatMatrix prepared = index.prepareQueries(queries);
    SearchResults res = new SearchResults(6, 10);
    index.search(SearchContext.of(prepared, SearchParams.DEFAULTS, res).accept(ord -> ord % 7 == 3));
    for (int q = 0; q < 6; q++) {
      int[] all = bruteForce(base, queries.row(q), 900, Similarity.DOT_PRODUCT);
      int[] expected = java.util.Arrays.stream(all).filter(o -> o % 7 == 3).limit(10).toArray();
      assertArrayEquals(expected, res.idsOf(q), "query " + q);
    }
  }
}
