package dev.codebook.index.store;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * When an acknowledged write reaches the disk.
 *
 * <ul>
 *   <li>{@link Mode#FSYNC}: every request waits for an {@code fsync} of the log (concurrent
 *       requests share one, as they arrive together).
 *   <li>{@link Mode#GROUP}: a syncer fsyncs the log at most once per {@code interval};
 *       requests wait for the fsync that covers them, so under load one fsync acknowledges many
 *       writers, and a lone write after a quiet spell is synced at once.
 *   <li>{@link Mode#NONE}: requests return once the record is written to the operating system;
 *       a process crash loses nothing, a power failure may lose the last writes.
 * </ul>
 *
 * @param mode the policy
 * @param interval the group-commit interval (only for {@link Mode#GROUP})
 */
public record Durability(Mode mode, Duration interval) {

  /** The default group-commit interval. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofMillis(5);

  public enum Mode {
    FSYNC,
    GROUP,
    NONE
  }

  public Durability {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(interval, "interval");
    if (mode == Mode.GROUP && (interval.isNegative() || interval.isZero())) {
      throw new IllegalArgumentException("group commit interval must be positive, got "
          + interval);
    }
  }

  public static Durability fsync() {
    return new Durability(Mode.FSYNC, DEFAULT_INTERVAL);
  }

  public static Durability group(Duration interval) {
    return new Durability(Mode.GROUP, interval);
  }

  public static Durability none() {
    return new Durability(Mode.NONE, DEFAULT_INTERVAL);
  }

  /**
   * Parses {@code fsync}, {@code none}, {@code group} or {@code group:<millis>ms}.
   *
   * @throws IllegalArgumentException naming the accepted forms
   */
  public static Durability parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("fsync")) {
      return fsync();
    }
    if (t.equals("none")) {
      return none();
    }
    if (t.equals("group")) {
      return group(DEFAULT_INTERVAL);
    }
    if (t.startsWith("group:") && t.endsWith("ms")) {
      try {
        long ms = Long.parseLong(t.substring(6, t.length() - 2));
        if (ms > 0) {
          return group(Duration.ofMillis(ms));
        }
      } catch (NumberFormatException e) {
        // falls through to the error
      }
    }
    throw new IllegalArgumentException("bad durability '" + text
        + "': use fsync, group, group:<N>ms (e.g. group:5ms) or none");
  }

  @Override
  public String toString() {
    return switch (mode) {
      case FSYNC -> "fsync";
      case NONE -> "none";
      case GROUP -> "group:" + interval.toMillis() + "ms";
    };
  }
}
