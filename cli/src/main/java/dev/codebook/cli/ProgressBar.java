package dev.codebook.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on stderr, redrawn in place at most every 100 ms. (No maintained
 * progress-bar library resolves from the registry here; this is all the CLI needs.)
 */
final class ProgressBar {

  private static final int WIDTH = 30;
  private static final long REDRAW_NANOS = 100_000_000L;

  private final PrintStream out;
  private final String label;
  private final long start = System.nanoTime();
  private long lastDraw;
  private boolean drawn;

  ProgressBar(PrintStream out, String label) {
    this.out = out;
    this.label = label;
  }

  /** Draws {@code fraction} (0 to 1) with a text after the bar; {@code force} skips throttling. */
  synchronized void update(double fraction, String text, boolean force) {
    long now = System.nanoTime();
    if (!force && drawn && now - lastDraw < REDRAW_NANOS) {
      return;
    }
    lastDraw = now;
    drawn = true;
    double f = Math.max(0, Math.min(1, fraction));
    int filled = (int) (WIDTH * f);
    out.printf(Locale.ROOT, "\r[%s] [%s%s] %3d%% %s\u001b[K", label, "#".repeat(filled),
        ".".repeat(WIDTH - filled), Math.round(100 * f), text);
    out.flush();
  }

  /** Seconds since the bar was made. */
  double seconds() {
    return (System.nanoTime() - start) / 1e9;
  }

  /** Ends the line. */
  synchronized void finish() {
    if (drawn) {
      out.println();
      out.flush();
    }
  }
}
