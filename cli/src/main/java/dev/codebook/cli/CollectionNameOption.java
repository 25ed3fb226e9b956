package dev.codebook.cli;

import picocli.CommandLine.Option;

/**
 * {@code --collection NAME} (or {@code --name}), required: the existing collection a {@code
 * collections} subcommand acts on.
 */
final class CollectionNameOption {

  @Option(names = {"--collection", "--name"}, required = true, paramLabel = "NAME",
      description = "Collection id.")
  String name;

  String name() {
    return name;
  }
}
