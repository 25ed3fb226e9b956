package dev.codebook.server.collection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.api.v1.AttributeValue;
import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.vector.AnnBenchmarksHdf5;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The collection without the transport: ordinals, tombstones, compaction and the build swap. */
class CollectionTest {

  static FloatMatrix train;

  @BeforeAll
  static void read() throws Exception {
    train = AnnBenchmarksHdf5.readVectors(Path.of("../samples/debian-minilm-5k.hdf5"), "train");
  }

  static FloatMatrix rows(int from, int to) {
    return train.slice(from, to);
  }

  static void upsert(Collection c, int from, int to, String prefix) {
    List<String> ids = new ArrayList<>();
    for (int i = from; i < to; i++) {
      ids.add(prefix + i);
    }
    c.upsert(ids, rows(from, to), Collections.nCopies(to - from, Map.of()));
  }

  static void upsertOne(Collection c, String id, int row) {
    c.upsert(List.of(id), rows(row, row + 1), List.of(Map.of()));
  }

  static Collection.Hit[] search(Collection c, int row, int k) {
    return c.search(rows(row, row + 1), k, new SearchParams(16, 10), false, false, () -> false)[0];
  }

  @Test
  void writesDuringABuildAreCarriedOver() {
    CollectionRegistry registry = new CollectionRegistry();
    Collection c = registry.create("c", 384, Similarity.COSINE,
        IndexSpec.parse("IVF16,PQ48x4fs,RFlat"));
    upsert(c, 0, 2000, "");
    AtomicBoolean wrote = new AtomicBoolean();
    // Training reports progress on the build thread, without the lock: write from there.
    Collection.BuildResult r = c.build(new IndexFactory.BuildOptions(1, 1, line -> {
      if (wrote.compareAndSet(false, true)) {
        assertEquals(Collection.State.BUILDING, c.info().state());
        c.delete(List.of("0", "1"), false);
        upsertOne(c, "5", 3000);
        upsertOne(c, "new-1", 3001);
        upsertOne(c, "gone", 3002);
        c.delete(List.of("gone"), false);
        // Searches still run, exactly, over the buffer.
        assertEquals("new-1", search(c, 3001, 1)[0].id());
      }
    }));
    assertTrue(wrote.get(), "the build reported progress");
    assertEquals(2000, r.trainingVectors());
    assertEquals(Collection.State.READY, c.info().state());
    assertEquals(2000 - 2 + 1, c.info().vectorCount());
    assertArrayEquals(train.row(3000), c.get(List.of("5")).get(0).values());
    assertThrows(VectorsNotFoundException.class, () -> c.get(List.of("0")));
    assertThrows(VectorsNotFoundException.class, () -> c.get(List.of("gone")));
    assertEquals("new-1", search(c, 3001, 1)[0].id());
    assertEquals("5", search(c, 3000, 1)[0].id());
    for (Collection.Hit h : search(c, 0, 50)) {
      assertTrue(!h.id().equals("0") && !h.id().equals("gone"), h.id());
    }
    // The build rewrote the segments with the rows live when encoding began (deletes during
    // training already dropped: 1,997), plus the three written since in the buffer.
    assertEquals(1997 + 3, c.storedVectors());
  }

  @Test
  void compactionReclaimsReplacedRows() {
    Collection c = new CollectionRegistry().create("c", 384, Similarity.DOT_PRODUCT,
        IndexSpec.flat());
    upsert(c, 0, 1500, "");
    upsert(c, 0, 1500, "");
    upsert(c, 0, 1500, "");
    assertEquals(4500, c.storedVectors());
    c.compact();
    // 3,000 replaced rows dropped from the rewritten segment.
    assertEquals(1500, c.storedVectors());
    assertEquals(1500, c.info().vectorCount());
    for (int row : new int[] {0, 7, 1499}) {
      Collection.Hit top = search(c, row, 1)[0];
      assertEquals(Integer.toString(row), top.id());
    }
  }

  @Test
  void attributesAndValuesComeBackAsStored() {
    Collection c = new CollectionRegistry().create("c", 384, Similarity.COSINE,
        IndexSpec.flat());
    Map<String, AttributeValue> attrs =
        Map.of("section", AttributeValue.newBuilder().setStringValue("net").build());
    c.upsert(List.of("a"), rows(0, 1), List.of(attrs));
    Collection.Hit h = c.search(rows(0, 1), 1, SearchParams.DEFAULTS, true, true, () -> false)[0][0];
    assertEquals(attrs, h.attributes());
    // Values as upserted, not normalized.
    assertArrayEquals(train.row(0), h.values());
    assertEquals(1.0f, h.score(), 1e-5f);
  }

  @Test
  void cancellationStopsBetweenQueryGroups() {
    Collection c = new CollectionRegistry().create("c", 384, Similarity.COSINE,
        IndexSpec.flat());
    upsert(c, 0, 100, "");
    int[] polls = {0};
    assertThrows(java.util.concurrent.CancellationException.class,
        () -> c.search(rows(0, 64), 5, SearchParams.DEFAULTS, false, false,
            () -> ++polls[0] > 2));
    assertEquals(3, polls[0]);
  }

  @Test
  void anIvfIndexGetsABatchWholeAndPollsTheDeadlineInsideItsScan() {
    Collection c = new CollectionRegistry().create("c", 384, Similarity.COSINE,
        IndexSpec.parse("IVF64,PQ48x4fs,RFlat"));
    upsert(c, 0, 2000, "");
    c.build(new IndexFactory.BuildOptions(1, 1, line -> { }));
    // nprobe 8 < CANCEL_CHECK_LISTS: the index never polls inside a query, so the only poll is
    // the one before the batch; cut into parts of 16 queries it would be four.
    int[] polls = {0};
    Collection.Hit[][] hits = c.search(rows(0, 64), 5, new SearchParams(8, 10), false, false,
        () -> ++polls[0] < 0);
    assertEquals(1, polls[0]);
    assertEquals(64, hits.length);
    assertEquals("63", hits[63][0].id());
    // With 32 lists a query the index polls once per query, and stops the batch inside it.
    int[] later = {0};
    java.util.concurrent.CancellationException e = assertThrows(
        java.util.concurrent.CancellationException.class,
        () -> c.search(rows(0, 64), 5, new SearchParams(32, 10), false, false,
            () -> ++later[0] > 3));
    assertEquals(4, later[0]);
    assertTrue(e.getMessage().contains("lists of a query"), e.getMessage());
  }

  @Test
  void aDeletedCollectionAnswersNotFound() {
    CollectionRegistry registry = new CollectionRegistry();
    Collection c = registry.create("c", 384, Similarity.COSINE, IndexSpec.flat());
    registry.delete("c");
    assertThrows(CollectionNotFoundException.class, () -> upsertOne(c, "x", 0));
    assertThrows(CollectionNotFoundException.class, () -> registry.get("c"));
  }
}
