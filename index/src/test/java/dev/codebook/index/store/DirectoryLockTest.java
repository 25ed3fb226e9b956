package dev.codebook.index.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One holder at a time per directory, named in the refusal; released on close. (Another
 * process is refused the same way: cli's OneProcessPerDataDirTest runs two.)
 */
class DirectoryLockTest {

  @TempDir Path dir;

  @Test
  void aSecondHolderIsRefusedNamingTheFirstUntilItCloses() throws Exception {
    try (DirectoryLock first = DirectoryLock.obtain(dir, "data directory")) {
      String holder = Files.readString(dir.resolve(DirectoryLock.HOLDER_FILE));
      assertTrue(holder.startsWith("pid " + ProcessHandle.current().pid() + " since "), holder);
      DirectoryLock.DirectoryLockedException e = assertThrows(
          DirectoryLock.DirectoryLockedException.class,
          () -> DirectoryLock.obtain(dir, "data directory"));
      assertEquals(dir, e.path());
      assertTrue(e.getMessage().startsWith("data directory " + dir + " is in use by this"
          + " process (pid " + ProcessHandle.current().pid() + ")"), e.getMessage());
    }
    DirectoryLock.obtain(dir, "data directory").close();
  }
}
