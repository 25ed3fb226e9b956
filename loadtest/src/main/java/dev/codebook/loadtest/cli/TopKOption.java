package dev.codebook.loadtest.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code --k K}: neighbours per query, checked when parsed so the message names the option. */
public final class TopKOption {

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  private int k;

  @Option(names = "--k", paramLabel = "K", defaultValue = Defaults.K,
      description = "Neighbours per query (default: ${DEFAULT-VALUE}).")
  void setK(int k) {
    if (k <= 0) {
      throw new CommandLine.ParameterException(mixee.commandLine(),
          "--k must be positive, got " + k);
    }
    this.k = k;
  }

  public int k() {
    return k;
  }
}
