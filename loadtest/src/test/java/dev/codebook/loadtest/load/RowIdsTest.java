package dev.codebook.loadtest.load;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class RowIdsTest {

  @Test
  void prefixedIdsEndInTheRowNumber() {
    RowIds ids = RowIds.prefixed("doc-");
    assertEquals(0, ids.row("doc-0"));
    assertEquals(4711, ids.row("doc-4711"));
    assertEquals(-1, ids.row("doc-"));
    assertEquals(-1, ids.row("doc-1x"));
    assertEquals(-1, ids.row("other-1"));
    assertEquals(-1, ids.row("doc-99999999999"));
    assertEquals(12, RowIds.prefixed("").row("12"));
  }

  @Test
  void anIdEndingInARowNumberSuggestsItsPrefix() {
    assertEquals("doc-", RowIds.likelyPrefix("doc-17"));
    assertEquals("r12-", RowIds.likelyPrefix("r12-0"));
    assertEquals("", RowIds.likelyPrefix("42"));
    assertEquals(null, RowIds.likelyPrefix("plasma-discover"));
    String why = RowIds.prefixed("").noRowsExplanation(Path.of("x.hdf5"), 1000, "doc-17");
    assertEquals("none of the 1,000 ids returned is a row of x.hdf5 (e.g. 'doc-17'): ids are"
        + " read as --id-prefix + row number, as `codebook ingest --id-prefix` names them, and no"
        + " --id-prefix was given; they look like 'doc-' + row number: add --id-prefix doc-", why);
  }

  @Test
  void theSampleNamesItsRowsInItsSideFile() throws Exception {
    RowIds ids = RowIds.forData(Path.of("../samples/debian-minilm-5k.hdf5"), "");
    java.util.List<String> names = new java.util.ArrayList<>();
    try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(
        new java.util.zip.GZIPInputStream(java.nio.file.Files.newInputStream(
            Path.of("../samples/debian-minilm-5k.names.txt.gz")))))) {
      in.lines().limit(3).forEach(names::add);
    }
    assertEquals(0, ids.row(names.get(0)));
    assertEquals(2, ids.row(names.get(2)));
  }
}
