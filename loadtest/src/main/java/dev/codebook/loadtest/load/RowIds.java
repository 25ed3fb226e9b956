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
