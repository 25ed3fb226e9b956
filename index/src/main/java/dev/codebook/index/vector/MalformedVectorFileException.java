package dev.codebook.index.vector;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A vector file that cannot be read: missing, of the wrong kind, truncated or inconsistent. The
 * message always starts with the file, then says what is wrong, so it can be shown to a user as is
 * (for example {@code "/x/a.fvecs: truncated: 1000 bytes is not a whole number of 388-byte
 * records (dim 96)"}).
 */
public class MalformedVectorFileException extends IOException {

  // Transient: Path is not Serializable, and the path is in the message anyway.
  private final transient Path file;
  private final String problem;

  public MalformedVectorFileException(Path file, String problem) {
    this(file, problem, null);
  }

  public MalformedVectorFileException(Path file, String problem, Throwable cause) {
    super(Objects.requireNonNull(file, "file") + ": " + Objects.requireNonNull(problem, "problem"),
        cause);
    this.file = file;
    this.problem = problem;
  }

  /** The file that could not be read. */
  public Path file() {
    return file;
  }

  /** What is wrong with it: the message without the leading file name. */
  public String problem() {
    return problem;
  }
}
