package dev.codebook.loadtest.cli;

import picocli.CommandLine.Option;

/** {@code --collection NAME} (required): the collection a command reads or writes. */
public final class CollectionOption {

  @Option(names = "--collection", required = true, paramLabel = "NAME", description = "Collection id.")
  String collection;

  /** The collection id as given. */
  public String collection() {
    return collection;
  }
}
