package dev.codebook.index.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FilterPlanTest {

  @Test
  void fewAcceptedRowsAreScoredExactly() {
    assertTrue(FilterPlan.choose(0, 28_000, 8, 64, false).exact());
    assertTrue(FilterPlan.choose(280, 28_000, 8, 64, false).exact(), "1% of the debian set");
    assertTrue(FilterPlan.choose(1_400, 28_000, 8, 64, false).exact());
    assertFalse(FilterPlan.choose(1_401, 28_000, 8, 64, false).exact());
    assertFalse(FilterPlan.choose(2_800, 28_000, 8, 64, false).exact(), "10% of the debian set");
  }

  @Test
  void theExactLimitGrowsWithTheScanItSaves() {
    // 1M vectors, IVF4096, nprobe 16: 10,000 accepted widen nprobe to 1,600 (390k codes).
    assertTrue(FilterPlan.choose(10_000, 1_000_000, 16, 4096, false).exact());
    assertFalse(FilterPlan.choose(20_000, 1_000_000, 16, 4096, false).exact());
    // Without IVF every code is scanned anyway.
    assertTrue(FilterPlan.choose(5_000, 100_000, 1, 0, false).exact());
    assertFalse(FilterPlan.choose(5_001, 100_000, 1, 0, false).exact());
  }

  @Test
  void overAnExactIndexGatheringPaysUpToHalfTheRows() {
    assertTrue(FilterPlan.choose(50_000, 100_000, 1, 0, true).exact());
    assertFalse(FilterPlan.choose(50_001, 100_000, 1, 0, true).exact());
  }

  @Test
  void theIndexPathWidensNprobeByTheInverseSelectivityCappedAtNlist() {
    assertEquals(80, FilterPlan.choose(100_000, 1_000_000, 8, 1024, false).nprobe());
    assertEquals(16, FilterPlan.choose(500_000, 1_000_000, 8, 1024, false).nprobe());
    assertEquals(8, FilterPlan.choose(1_000_000, 1_000_000, 8, 1024, false).nprobe());
    assertEquals(64, FilterPlan.choose(2_800, 28_000, 8, 64, false).nprobe());
    assertEquals(17, FilterPlan.choose(13_940, 28_000, 8, 64, false).nprobe());
  }

  @Test
  void widenDoublesUpToNlist() {
    assertEquals(32, FilterPlan.widen(16, 64));
    assertEquals(64, FilterPlan.widen(48, 64));
  }
}
