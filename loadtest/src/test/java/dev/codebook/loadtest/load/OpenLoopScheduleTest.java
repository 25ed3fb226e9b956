package dev.codebook.loadtest.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The open-loop timetable and the latency it charges, over recorded timestamps. */
class OpenLoopScheduleTest {

  static final long MS = 1_000_000L;

  @Test
  void callsAreDueAtFixedIntervalsWithoutDrift() {
    OpenLoopSchedule s = new OpenLoopSchedule(5_000, 3000);
    assertEquals(5_000, s.due(0));
    assertEquals(5_000 + 333_333, s.due(1));
    assertEquals(5_000 + 1_000_000_000L, s.due(3000));
    assertEquals(5_000 + 3_600_000_000_000L, s.due(3000L * 3600), "an hour later, still on time");
  }

  @Test
  void callsWithinAWindowCountEverySlotThatStartsInIt() {
    assertEquals(200, new OpenLoopSchedule(0, 200).callsWithin(1_000_000_000L));
    assertEquals(0, new OpenLoopSchedule(0, 200).callsWithin(0));
    assertEquals(1, new OpenLoopSchedule(0, 200).callsWithin(1));
    assertEquals(3, new OpenLoopSchedule(0, 3).callsWithin(1_000_000_000L));
    assertEquals(4, new OpenLoopSchedule(0, 3).callsWithin(1_000_000_001L));
    assertEquals(1000, new OpenLoopSchedule(0, 333.3).callsWithin(3_000_300_000L));
    assertThrows(IllegalArgumentException.class, () -> new OpenLoopSchedule(0, 0));
    assertThrows(IllegalArgumentException.class, () -> new OpenLoopSchedule(0, Double.NaN));
  }

  /**
   * The classic case: 100 calls a second for 2 s, each answered in 1 ms, except that the server
   * stalls for one second from t = 0.5 s. A generator that waits for the stalled call before
   * sending the next and measures from the send records one slow call. Charged from their slots,
   * the calls due during the stall, and those queued behind it until the backlog clears at t =
   * 1.61 s, wait 1000, 991, 982, ... 10 ms.
   */
  @Test
  void aStallIsChargedToEveryCallDueDuringIt() {
    OpenLoopSchedule s = new OpenLoopSchedule(0, 100);
    LatencyStats open = new LatencyStats();
    LatencyStats naive = new LatencyStats();
    long stallFrom = 500 * MS, stallTo = 1500 * MS;
    long n = s.callsWithin(2000 * MS);
    assertEquals(200, n);
    long free = 0; // when the (one-at-a-time) server is next free
    for (long i = 0; i < n; i++) {
      long due = s.due(i);
      long sent = Math.max(due, free); // held back while the previous call is unanswered
      long done = sent >= stallFrom && sent < stallTo ? stallTo : sent + MS;
      free = done;
      open.success(due, sent, done, 1);
      naive.success(sent, sent, done, 1);
    }
    open.drain();
    naive.drain();
    assertEquals(200, open.calls());
    // from the send, the stall is one call in 200: invisible below p99.5
    assertEquals(1.0, naive.latencyMs(99), 0.01);
    assertEquals(1000.0, naive.maxMs(), 1.0);
    // from the slot: call 50 waits 1000 ms, call j in 51..160 waits 1450 - 9j ms
    assertEquals(1000.0, open.maxMs(), 1.0);
    assertEquals(982.0, open.latencyMs(99), 1.0); // the 198th of 200
    assertEquals(550.0, open.latencyMs(75), 1.0); // the 150th: 89 calls at 1 ms, then 10, 19, ...
    assertEquals(1.0, open.latencyMs(40), 0.01);
    assertEquals(110, open.lateSends(), "calls 51..160 left more than 1 ms after their slot");
    assertEquals(990.0, open.maxSendLagMs(), 0.01);
    assertEquals(0, LatencyStats.correctedLatency(10, 5), "an early answer is not negative");
  }
}
