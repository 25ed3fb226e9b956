package dev.codebook.server.collection;

import java.util.Objects;

/**
 * The request is valid but the collection is not in a state to run it (a build already running,
 * too few vectors to train, a backup target that is not empty, a directory that holds no
 * backup): FAILED_PRECONDITION, with {@link #reason()} as the {@code
 * ErrorInfo.reason}.
 */
public final class CollectionStateException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public static final String BUILD_RUNNING = "BUILD_RUNNING";
  public static final String TOO_FEW_VECTORS = "TOO_FEW_VECTORS";
  public static final String BACKUP_TARGET_NOT_EMPTY = "BACKUP_TARGET_NOT_EMPTY";
  public static final String NOT_A_BACKUP = "NOT_A_BACKUP";
  public static final String BACKUPS_DISABLED = "BACKUPS_DISABLED";
  public static final String BACKUP_TARGET_UNWRITABLE = "BACKUP_TARGET_UNWRITABLE";

  private final String reason;

  public CollectionStateException(String reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public String reason() {
    return reason;
  }
}
