package dev.codebook.loadtest.cli;

import dev.codebook.index.vector.Similarity;
import picocli.CommandLine;

/**
 * {@code --metric NAME}: {@code cosine} (or {@code angular}), {@code dot} (or {@code ip}) or
 * {@code l2} (or {@code euclidean}); a typo is a usage error naming the option.
 */
public final class MetricConverter implements CommandLine.ITypeConverter<Similarity> {

  /** For option descriptions. */
  public static final String NAMES = "cosine (angular), dot (ip) or l2 (euclidean)";

  @Override
  public Similarity convert(String value) {
    try {
      return Similarity.parse(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }
}
