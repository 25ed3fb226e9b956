package dev.codebook.loadtest.load;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Reads a vector id returned by the server back as the row number of the data file, so results
 * can be scored against the file's {@code neighbors}. Two conventions, as {@code codebook
 * ingest}/{@code search} and {@code serve} use them: ids are {@code prefix + row}, or, for the
 * bundled sample, the names in {@code <stem>.names.txt.gz} beside the file (line i names row i).
 */
public final class RowIds {

  private final String prefix;
  private final Map<String, Integer> names;

  private RowIds(String prefix, Map<String, Integer> names) {
    this.prefix = prefix;
    this.names = names;
  }

  /** Ids are {@code prefix + row}. */
  public static RowIds prefixed(String prefix) {
    return new RowIds(prefix == null ? "" : prefix, Map.of());
  }

  /**
   * Names from the side file of {@code data} when there is one, else (and for ids not named
   * there) {@code prefix + row}.
   */
  public static RowIds forData(Path data, String prefix) throws IOException {
    String stem = data.getFileName().toString().replaceFirst("\\.(hdf5|h5)$", "");
    Path file = data.resolveSibling(stem + ".names.txt.gz");
    Map<String, Integer> names = new HashMap<>();
    if (Files.isRegularFile(file)) {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(
          new GZIPInputStream(Files.newInputStream(file)), StandardCharsets.UTF_8))) {
        String line;
        for (int row = 0; (line = in.readLine()) != null; row++) {
          names.putIfAbsent(line, row);
        }
      }
    }
    return new RowIds(prefix == null ? "" : prefix, names);
  }

  /** The prefix the ids are read with ({@code --id-prefix}). */
  public String prefix() {
    return prefix;
  }

  /**
   * The prefix {@code id} would have been ingested with, if it ends in a row number: {@code
   * "doc-"} for {@code "doc-17"}; null for an id without trailing digits.
   */
  public static String likelyPrefix(String id) {
    int end = id.length();
    while (end > 0 && Character.isDigit(id.charAt(end - 1))) {
      end--;
    }
    return end == id.length() ? null : id.substring(0, end);
  }

  /**
   * Why none of the ids returned could be read as a row of {@code data}, e.g. {@code "doc-17"},
   * and how to fix it: one sentence for an error or warning, naming {@code --id-prefix}.
   */
  public String noRowsExplanation(Path data, long count, String example) {
    String likely = likelyPrefix(example);
    StringBuilder b = new StringBuilder(String.format(java.util.Locale.ROOT,
        "none of the %,d ids returned is a row of %s (e.g. '%s'): ids are read as --id-prefix"
            + " + row number, as `codebook ingest --id-prefix` names them, ", count, data, example));
    b.append(prefix.isEmpty() ? "and no --id-prefix was given"
        : "and these do not start with --id-prefix " + prefix);
    if (likely != null && !likely.equals(prefix)) {
      b.append("; they look like '").append(likely).append("' + row number: add --id-prefix ")
          .append(likely);
    } else {
      b.append("; give the --id-prefix they were ingested with, if the collection holds this"
          + " file's rows");
    }
    return b.toString();
  }

  /** The row {@code id} names, or -1 for an id that is not one of the file's rows. */
  public int row(String id) {
    Integer named = names.get(id);
    if (named != null) {
      return named;
    }
    if (!id.startsWith(prefix) || id.length() == prefix.length()) {
      return -1;
    }
    int row = 0;
    for (int i = prefix.length(); i < id.length(); i++) {
      char c = id.charAt(i);
      if (c < '0' || c > '9' || row > (Integer.MAX_VALUE - 9) / 10) {
        return -1;
      }
      row = row * 10 + (c - '0');
    }
    return row;
  }
}
