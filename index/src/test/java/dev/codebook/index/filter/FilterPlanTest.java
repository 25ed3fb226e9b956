package dev.codebook.index.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FilterPlanTest {

  @Test
  void smallFiltersAreScoredExactly() {
    assertTrue(FilterPlan.choose(0, 28_000, 8, 64, false).exact());
    assertTrue(FilterPlan.choose(FilterPlan.EXACT_MAX_ROWS, 1_000_000, 8, 1024, false).exact());
    assertFalse(FilterPlan.choose(FilterPlan.EXACT_MAX_ROWS + 1, 1_000_000, 8, 1024, false).exact());
  }

  @Test
  void overAnExactIndexGatheringPaysUpToHalfTheRows() {
    assertTrue(FilterPlan.choose(50_000, 100_000, 1, 0, true).exact());
    assertFalse(FilterPlan.choose(50_001, 100_000, 1, 0, true).exact());
  }

  @Test
  void largerFiltersWidenNprobeByTheInverseSelectivityCappedAtNlist() {
    FilterPlan tenth = FilterPlan.choose(100_000, 1_000_000, 8, 1024, false);
    assertFalse(tenth.exact());
    assertEquals(80, tenth.nprobe());
    assertEquals(16, FilterPlan.choose(500_000, 1_000_000, 8, 1024, false).nprobe());
    assertEquals(8, FilterPlan.choose(1_000_000, 1_000_000, 8, 1024, false).nprobe());
    assertEquals(1024, FilterPlan.choose(5_000, 1_000_000, 8, 1024, false).nprobe());
    assertEquals(8, FilterPlan.choose(100_000, 1_000_000, 8, 0, false).nprobe(), "no IVF");
  }

  @Test
  void widenDoublesUpToNlist() {
    assertEquals(32, FilterPlan.widen(16, 64));
    assertEquals(64, FilterPlan.widen(48, 64));
  }
}
