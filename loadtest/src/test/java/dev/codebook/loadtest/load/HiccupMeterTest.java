package dev.codebook.loadtest.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class HiccupMeterTest {

  @Test
  void aSleepThatOverranIsRecordedAsItsOvershootAndAnEarlyOneAsNone() {
    try (HiccupMeter meter = new HiccupMeter(Duration.ofHours(1))) { // its thread stays asleep
      meter.sinceLast();
      meter.record(1_000_000, 1_050_000);
      meter.record(1_000_000, 6_000_000);
      meter.record(1_000_000, 900_000);
      Histogram h = meter.sinceLast();
      assertEquals(3, h.getTotalCount());
      assertEquals(5_000, h.getMaxValue(), 5); // 5 ms late, in microseconds
      assertEquals(0, h.getMinValue());
      assertEquals(50, h.getValueAtPercentile(50), 1);
      // Each call starts afresh.
      assertEquals(0, meter.sinceLast().getTotalCount());
    }
  }

  @Test
  void theMeterThreadRecordsAboutOneSleepPerResolution() throws InterruptedException {
    try (HiccupMeter meter = new HiccupMeter(Duration.ofMillis(1))) {
      meter.sinceLast();
      Thread.sleep(300);
      long sleeps = meter.sinceLast().getTotalCount();
      // At most one a millisecond; at least a few dozen even on a busy two-core machine.
      assertTrue(sleeps > 30 && sleeps <= 300, sleeps + " sleeps in 300 ms");
    }
  }

  @Test
  void aResolutionMustBePositive() {
    assertThrows(IllegalArgumentException.class, () -> new HiccupMeter(Duration.ZERO));
  }
}
