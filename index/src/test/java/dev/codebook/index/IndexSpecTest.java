package dev.codebook.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IndexSpecTest {

  @ParameterizedTest
  @ValueSource(strings = {"Flat", "PQ32", "PQ32x4fs", "IVF256,PQ32", "IVF4096,PQ48x4fs",
      "IVF512,PQ192x4fsr,RFlat", "OPQ32,IVF256,PQ32", "IVF256,PQ32,RFlat", "IVF1024,Flat",
      "PQ16x4"})
  void factoryStringsRoundTrip(String spec) {
    assertEquals(spec, IndexSpec.parse(spec).toString());
  }

  @Test
  void fieldsFollowFaissMeaning() {
    IndexSpec s = IndexSpec.parse("OPQ32,IVF256,PQ32,RFlat");
    assertEquals(32, s.opqM());
    assertEquals(256, s.nlist());
    assertEquals(32, s.pqM());
    assertEquals(8, s.nbits());
    assertTrue(s.residual(), "8-bit IVF-PQ encodes residuals by default");
    assertTrue(s.refineFlat());
    assertEquals(32, s.codeSize(384));

    IndexSpec fs = IndexSpec.parse("IVF4096,PQ48x4fs");
    assertTrue(fs.fastScan());
    assertFalse(fs.residual(), "x4fs without r is not residual, as in FAISS");
    assertEquals(24, fs.codeSize(384));
    assertTrue(IndexSpec.parse("IVF4096,PQ48x4fsr").residual());
    assertEquals(1536, IndexSpec.parse("Flat").codeSize(384));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "''|empty",
      "IVF256|missing the encoding",
      "IVF256,PQ32x5|nbits must be 4 or 8",
      "PQ32x8fs|fast-scan needs 4-bit",
      "IVF0,PQ32|not a positive integer",
      "IVF256,PQ32,RFlat,RFlat|only ',RFlat'",
      "IVF256,PQ32,HNSW|only ',RFlat'",
      "IFV256,PQ32|unknown component",
      "OPQ16,Flat|OPQ needs a PQ",
      "PQ32x4fsr|residual fast-scan needs IVF"})
  void typosGiveAnErrorNamingThePart(String spec, String expected) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> IndexSpec.parse(spec));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void mMustDivideTheDimension() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> IndexSpec.parse("PQ7").validateFor(384));
    assertEquals("PQ7: m=7 does not divide the dimension 384", e.getMessage());
    IndexSpec.parse("PQ48").validateFor(384);
  }

  @Test
  void searchParamsParseAndReject() {
    assertEquals(new SearchParams(16, 4), SearchParams.parse("nprobe=16,rerank=4"));
    assertEquals(new SearchParams(8, 2), SearchParams.parse("k_factor=2, nprobe=8"));
    assertEquals(SearchParams.DEFAULTS, SearchParams.parse(""));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> SearchParams.parse("nprobe=0"))
        .getMessage().contains("nprobe must be positive"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> SearchParams.parse("nprobes=3"))
        .getMessage().contains("unknown search parameter 'nprobes'"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> SearchParams.parse("nprobe=x"))
        .getMessage().contains("not an integer"));
  }
}
