package dev.codebook.loadtest.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The timing rules shared with tools/faiss_bench/faiss_spec_bench.cpp, on a clock the passes
 * move by hand: how many warm-up and timed passes run, and which statistic comes out.
 */
class PassTimerTest {

  private static final long MS = 1_000_000L;

  /**
   * A clock that only moves when a pass runs, by the next of {@code passMillis} (cycled); the
   * CPU clock moves by {@code cpuShare} of it (a machine shared with others).
   */
  private static final class Script {
    final AtomicLong now = new AtomicLong(1_000 * MS);
    final AtomicLong cpu = new AtomicLong(7 * MS);
    final long[] passMillis;
    double cpuShare = 1.0;
    int runs;

    Script(long... passMillis) {
      this.passMillis = passMillis;
    }

    void pass() {
      long ms = passMillis[runs++ % passMillis.length];
      now.addAndGet(ms * MS);
      cpu.addAndGet(Math.round(ms * MS * cpuShare));
    }
  }

  @Test
  void warmsUpForItsSecondsThenTimesAtLeastMinPassesAndMinTime() {
    Script s = new Script(300);
    // warm-up: passes start at 0, 0.3, 0.6 and 0.9 s -> 4; timed: 5 passes reach 1.5 s >= 1 s
    PassTimer.Stats st = new PassTimer(1.0, 1.0, 5, s.now::get, s.cpu::get).time(s::pass, 1000);
    assertEquals(9, s.runs);
    assertEquals(5, st.passes());
    assertEquals(1000 / 0.3, st.median(), 1e-6);
  }

  @Test
  void shortPassesGoOnUntilTheMinimumTime() {
    Script s = new Script(100);
    PassTimer.Stats st = new PassTimer(0.0, 1.0, 5, s.now::get, s.cpu::get).time(s::pass, 500);
    assertEquals(10, st.passes()); // 10 x 0.1 s
    assertEquals(10, s.runs); // no warm-up at 0 s
  }

  @Test
  void reportsTheMedianPassWithTheLowestAndHighest() {
    // pass times 10, 20, 40, 50, 100 ms of 1,000 queries: 100k, 50k, 25k, 20k, 10k QPS
    Script s = new Script(40, 10, 100, 20, 50);
    PassTimer.Stats st = new PassTimer(0.0, 0.0, 5, s.now::get, s.cpu::get).time(s::pass, 1000);
    assertEquals(5, st.passes());
    assertEquals(25_000, st.median(), 1e-6); // not the best pass (100k), nor the mean
    assertEquals(10_000, st.min(), 1e-6);
    assertEquals(100_000, st.max(), 1e-6);
  }

  @Test
  void cpuThroughputCountsOnlyTheTimedPassesCpuTime() {
    Script s = new Script(100);
    s.cpuShare = 0.25; // the other programs held the cores three quarters of the time
    PassTimer.Stats st = new PassTimer(0.5, 0.0, 4, s.now::get, s.cpu::get).time(s::pass, 1000);
    assertEquals(9, s.runs); // 5 warm-up passes (0 to 0.4 s), 4 timed
    assertEquals(10_000, st.median(), 1e-6); // wall clock: 1,000 queries in 0.1 s
    assertEquals(40_000, st.cpuQps(), 1e-6); // 4,000 queries in 0.1 CPU seconds
  }

  @Test
  void noCpuClockGivesNoCpuThroughput() {
    Script s = new Script(10);
    PassTimer.Stats st = new PassTimer(0.0, 0.0, 3, s.now::get, () -> -1).time(s::pass, 100);
    assertTrue(Double.isNaN(st.cpuQps()));
  }

  @Test
  void anEvenCountTakesTheMeanOfTheMiddleTwo() {
    PassTimer.Stats st = PassTimer.stats(new double[] {4, 1, 3, 2}, Double.NaN);
    assertEquals(2.5, st.median(), 1e-12);
    assertEquals(1, st.min(), 1e-12);
    assertEquals(4, st.max(), 1e-12);
    assertEquals(4, st.passes());
  }

  @Test
  void keepsEveryPassBeyondItsFirstBuffer() {
    List<Long> times = new ArrayList<>();
    for (long i = 1; i <= 41; i++) {
      times.add(i);
    }
    Script s = new Script(times.stream().mapToLong(Long::longValue).toArray());
    PassTimer.Stats st = new PassTimer(0.0, 0.0, 41, s.now::get, s.cpu::get).time(s::pass, 1000);
    assertEquals(41, st.passes());
    assertEquals(1000 / 0.021, st.median(), 1e-6); // the 21st of 41 pass times
    assertEquals(1000 / 0.041, st.min(), 1e-6);
    assertEquals(1000 / 0.001, st.max(), 1e-6);
  }

  @Test
  void rejectsNoPassesOrNegativeTimes() {
    assertThrows(IllegalArgumentException.class, () -> new PassTimer(1, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new PassTimer(-1, 1, 5));
    assertThrows(IllegalArgumentException.class, () -> PassTimer.stats(new double[0], 1));
  }
}
