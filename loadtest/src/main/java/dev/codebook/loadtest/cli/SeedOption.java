package dev.codebook.loadtest.cli;

import picocli.CommandLine.Option;

/** {@code --seed N}: the training seed, by default the one the server uses when a build names none. */
public final class SeedOption {

  @Option(names = "--seed", paramLabel = "N", defaultValue = Defaults.SEED,
      description = "Training seed (default: ${DEFAULT-VALUE}, what the server uses when a build"
          + " names none).")
  long seed;

  public long seed() {
    return seed;
  }
}
