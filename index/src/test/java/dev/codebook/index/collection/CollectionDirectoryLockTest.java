package dev.codebook.index.collection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.IndexSpec;
import dev.codebook.index.store.DirectoryLock;
import dev.codebook.index.store.Durability;
import dev.codebook.index.vector.Similarity;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An open collection holds its directory's {@link DirectoryLock}. */
class CollectionDirectoryLockTest {

  @TempDir Path dir;

  @Test
  void aCollectionEngineHoldsItsDirectoryFromOpenToClose() throws Exception {
    Path c = dir.resolve("c");
    CollectionOptions options = CollectionOptions.defaults()
        .withDurability(Durability.none()).withBackgroundMaintenance(false);
    try (CollectionEngine store = CollectionEngine.create(c, 4, Similarity.EUCLIDEAN,
        IndexSpec.parse("Flat"), options)) {
      DirectoryLock.DirectoryLockedException e = assertThrows(
          DirectoryLock.DirectoryLockedException.class, () -> CollectionEngine.open(c, options));
      assertTrue(e.getMessage().startsWith("collection directory " + c), e.getMessage());
      assertEquals(0, store.liveCount(), "the refused open changed nothing");
    }
    try (CollectionEngine again = CollectionEngine.open(c, options)) {
      assertTrue(Files.exists(c.resolve(DirectoryLock.LOCK_FILE)),
          "the lock file is not a store file an open deletes");
    }
  }
}
