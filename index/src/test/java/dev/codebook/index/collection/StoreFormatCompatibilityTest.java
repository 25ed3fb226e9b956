package dev.codebook.index.collection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.codebook.index.SearchParams;
import dev.codebook.index.store.Durability;
import dev.codebook.index.vector.FloatMatrix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads collections written by released format versions (checked in under {@code
 * src/test/resources/store/}). A format change must keep these opening with the same contents,
 * or bump the version and say here why an old one can no longer be read.
 */
class StoreFormatCompatibilityTest {

  static final Path V0 = Path.of("src/test/resources/store/v0");

  @TempDir Path tmp;

  @Test
  void version0CollectionOpensWithEveryRowItsLogAndItsDeletions() throws IOException {
    // Opening may truncate a log tail or delete stale files: work on a copy.
    Path dir = tmp.resolve("v0");
    Files.createDirectories(dir);
    try (var files = Files.list(V0)) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    CollectionOptions o = CollectionOptions.defaults()
        .withDurability(Durability.none()).withBackgroundMaintenance(false);
    try (CollectionEngine s = CollectionEngine.open(dir, o)) {
      assertEquals(StoreFixture.SPEC, s.spec());
      assertEquals(1, s.codebookVersion());
      assertEquals(1, s.segmentCount());
      // The log since the last flush: the delete already in _3_1.del (replayed idempotently),
      // the unflushed upsert and the last delete.
      assertEquals(3, s.openStats().replayedRecords());
      assertEquals(StoreFixture.ROWS - 3, s.liveCount());
      for (String gone : List.of("id-3", "id-4", "id-5")) {
        assertNull(s.get(List.of(gone)).get(0), gone);
      }
      for (int i : new int[] {0, 6, 249, 250, 299}) {
        CollectionEngine.Row r = s.get(List.of("id-" + i)).get(0);
        assertArrayEquals(StoreFixture.vector(i), r.values());
        assertArrayEquals(StoreFixture.attributes(i), r.attributes());
        CollectionEngine.Hit top = s.search(new FloatMatrix(1, StoreFixture.DIM,
            StoreFixture.vector(i)), 1, new SearchParams(4, 10), false, false, () -> false)[0][0];
        assertEquals("id-" + i, top.id());
      }
    }
  }
}
