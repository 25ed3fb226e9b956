package dev.codebook.cli;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes {@code java.util.logging} (what grpc-java and parts of Netty log through) into the one
 * SLF4J log the CLI writes, one line per event: a library's exception is summarized as its class
 * and message chain instead of a multi-line stack trace in a second format. {@code --debug}
 * keeps the stack traces.
 */
final class LibraryLogging {

  private LibraryLogging() {}

  /** Replaces the JUL root handlers with the bridge. */
  static void install(boolean stackTraces) {
    LogManager.getLogManager().reset();
    java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    root.setLevel(Level.INFO);
    root.addHandler(new Bridge(stackTraces));
  }

  private static final class Bridge extends Handler {
    private final SimpleFormatter formatter = new SimpleFormatter();
    private final boolean stackTraces;

    Bridge(boolean stackTraces) {
      this.stackTraces = stackTraces;
    }

    @Override
    public void publish(LogRecord r) {
      Logger log = LoggerFactory.getLogger(r.getLoggerName() == null ? "jul" : r.getLoggerName());
      int level = r.getLevel().intValue();
      boolean enabled = level >= Level.SEVERE.intValue() ? log.isErrorEnabled()
          : level >= Level.WARNING.intValue() ? log.isWarnEnabled()
          : level >= Level.INFO.intValue() ? log.isInfoEnabled() : log.isDebugEnabled();
      if (!enabled) {
        return;
      }
      String msg = formatter.formatMessage(r);
      Throwable t = r.getThrown();
      if (t != null && !stackTraces) {
        msg = msg + " (" + summary(t) + ")";
        t = null;
      }
      if (level >= Level.SEVERE.intValue()) {
        log.error(msg, t);
      } else if (level >= Level.WARNING.intValue()) {
        log.warn(msg, t);
      } else if (level >= Level.INFO.intValue()) {
        log.info(msg, t);
      } else {
        log.debug(msg, t);
      }
    }

    /** {@code Type: message <- CauseType: message}, on one line. */
    static String summary(Throwable t) {
      StringBuilder sb = new StringBuilder();
      for (Throwable c = t; c != null && sb.length() < 500; c = c.getCause()) {
        if (!sb.isEmpty()) {
          sb.append(" <- ");
        }
        sb.append(c.getClass().getSimpleName());
        if (c.getMessage() != null) {
          sb.append(": ").append(c.getMessage().replace('\n', ' '));
        }
        if (c.getCause() == c) {
          break;
        }
      }
      return sb.toString();
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
