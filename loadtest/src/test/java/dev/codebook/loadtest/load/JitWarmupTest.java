package dev.codebook.loadtest.load;

import static dev.codebook.loadtest.load.LoadTestCommand.JIT_WARMUP_MIN_CALLS;
import static dev.codebook.loadtest.load.LoadTestCommand.moreJitWarmup;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** How long the JIT warm-up before the first level goes on: until enough calls, within a cap. */
class JitWarmupTest {

  @Test
  void enoughCallsEndTheWarmUp() {
    assertEquals(0, moreJitWarmup(10, 10, JIT_WARMUP_MIN_CALLS));
    assertEquals(0, moreJitWarmup(10, 10, 90_000)); // one query a call: 9,000 calls a second
  }

  @Test
  void tooFewCallsExtendItByWhatTheRateSoFarNeeds() {
    // 32-query calls at 700 a second: 7,000 in 10 s, 13,000 more take 18.6 s, rounded up.
    assertEquals(19, moreJitWarmup(10, 10, 7_000));
    // Almost there: still at least a second.
    assertEquals(1, moreJitWarmup(10, 10, JIT_WARMUP_MIN_CALLS - 1));
  }

  @Test
  void theWarmUpNeverRunsPastSixTimesWhatWasAskedFor() {
    // 100 calls a second would need 190 s more; the cap leaves 50.
    assertEquals(50, moreJitWarmup(10, 10, 1_000));
    assertEquals(0, moreJitWarmup(10, 60, 6_000));
    // A server that answered nothing: wait out the cap rather than divide by zero.
    assertEquals(50, moreJitWarmup(10, 10, 0));
  }
}
