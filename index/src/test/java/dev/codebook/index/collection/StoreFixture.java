package dev.codebook.index.collection;

import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.store.Durability;
import dev.codebook.index.vector.Similarity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the small collection checked in under {@code src/test/resources/store/v0} that {@link
 * StoreFormatCompatibilityTest} reads: a trained IVF-PQ segment with deletions, a codebook, and
 * a write-ahead log holding an upsert and a delete not yet flushed. Run it only when the format
 * version changes, into a new directory, and keep the old one tested:
 *
 * <pre>
 * java -cp index/target/classes:index/target/test-classes:$(cat cp.txt) \
 *     dev.codebook.index.collection.StoreFixture index/src/test/resources/store/vN
 * </pre>
 */
public final class StoreFixture {

  static final int DIM = 8;
  static final int ROWS = 300;
  static final IndexSpec SPEC = IndexSpec.parse("IVF4,PQ4x4fs,RFlat");

  private StoreFixture() {}

  /** Row {@code i}'s vector: deterministic, no two alike. */
  static float[] vector(int i) {
    float[] v = new float[DIM];
    for (int j = 0; j < DIM; j++) {
      v[j] = (float) Math.sin(i * 0.37 + j * 1.3) + (j == i % DIM ? 2f : 0f);
    }
    return v;
  }

  static byte[] attributes(int i) {
    return ("row-" + i).getBytes(StandardCharsets.UTF_8);
  }

  static void upsert(CollectionEngine s, int from, int to) throws IOException {
    List<String> ids = new ArrayList<>();
    List<byte[]> attrs = new ArrayList<>();
    float[] values = new float[(to - from) * DIM];
    for (int i = from; i < to; i++) {
      ids.add("id-" + i);
      attrs.add(attributes(i));
      System.arraycopy(vector(i), 0, values, (i - from) * DIM, DIM);
    }
    s.upsert(ids, values, attrs);
  }

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    CollectionOptions o = CollectionOptions.defaults()
        .withDurability(Durability.fsync()).withBackgroundMaintenance(false);
    CollectionEngine s = CollectionEngine.create(dir, DIM, Similarity.EUCLIDEAN, SPEC, o);
    upsert(s, 0, 250);
    s.build(new IndexFactory.BuildOptions(7, 1, line -> {}), 100_000);
    s.delete(List.of("id-3", "id-4"), false);
    s.commit();
    upsert(s, 250, 300); // in the log only
    s.delete(List.of("id-5"), false);
    s.closeWithoutFlush();
  }
}
