package dev.codebook.loadtest.cli;

import dev.codebook.index.IndexFactory;

/** The defaults of the options that several commands have, as picocli default values. */
public final class Defaults {

  /** {@code --metric}: collections and vector files compare by cosine unless told otherwise. */
  public static final String METRIC = "cosine";

  /** {@code --seed}: the training seed the server uses when a build names none. */
  public static final String SEED = "" + IndexFactory.DEFAULT_SEED;

  /** {@code --index}: exact search. */
  public static final String INDEX = "Flat";

  /** {@code --k}: neighbours per query, as recall@10 needs. */
  public static final String K = "10";

  private Defaults() {}
}
