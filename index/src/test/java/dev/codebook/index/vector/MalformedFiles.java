package dev.codebook.index.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.function.Executable;

/** The contract every reader keeps for a bad file: a typed error naming the file and problem. */
final class MalformedFiles {

  private MalformedFiles() {}

  static MalformedVectorFileException assertMalformed(
      Path file, String problem, Executable read) {
    MalformedVectorFileException e = assertThrows(MalformedVectorFileException.class, read);
    assertEquals(file, e.file());
    assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(problem),
        () -> "expected '" + problem + "' in: " + e.getMessage());
    return e;
  }
}
