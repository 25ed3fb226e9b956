package dev.codebook.loadtest.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --out FILE.jsonl}: a file the command's JSON result lines are also appended to. */
public final class JsonLinesOutOption {

  @Option(names = "--out", paramLabel = "FILE.jsonl", description = "Also append the JSON lines to this file.")
  Path out;

  /** The file, or null for none. */
  public Path out() {
    return out;
  }
}
