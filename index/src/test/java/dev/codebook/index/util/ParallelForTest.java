package dev.codebook.index.util;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every task runs once whatever the threads; the first failure stops the loop and surfaces. */
class ParallelForTest {

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 8})
  void everyTaskRunsOnceAndSlotsCombineIdentically(int threads) {
    int[] slots = new int[1000];
    try (ParallelFor loop = ParallelFor.owned(threads, "test")) {
      loop.run(slots.length, t -> slots[t] += t * 3);
    }
    int[] expected = new int[1000];
    for (int t = 0; t < expected.length; t++) {
      expected[t] = t * 3;
    }
    assertArrayEquals(expected, slots);
    int[] again = new int[1000];
    ParallelFor.forEach(again.length, threads, "test", t -> again[t] += t * 3);
    assertArrayEquals(expected, again);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void theFirstFailureStopsTheHandOutAndIsRethrown(int threads) {
    AtomicInteger ran = new AtomicInteger();
    IllegalStateException boom = new IllegalStateException("boom");
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ParallelFor.shared(threads, "test").run(10_000, t -> {
          ran.incrementAndGet();
          if (t == 5) {
            throw boom;
          }
        }));
    assertSame(boom, e);
    assertTrue(ran.get() < 10_000, "stopped after " + ran.get());
    assertThrows(CancellationException.class, () -> ParallelFor.SERIAL.run(3, t -> {
      throw new CancellationException("cancelled");
    }));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4})
  void eachWorkerHasItsStateAndHandsItBack(int threads) {
    ExecutorService executor = Executors.newFixedThreadPool(3);
    try {
      ConcurrentLinkedQueue<int[]> done = new ConcurrentLinkedQueue<>();
      AtomicInteger made = new AtomicInteger();
      ParallelFor.on(executor, threads, "test").run(200, () -> {
        made.incrementAndGet();
        return new int[1];
      }, (state, t) -> state[0]++, done::add);
      assertEquals(made.get(), done.size());
      assertEquals(200, done.stream().mapToInt(s -> s[0]).sum());
      assertTrue(made.get() <= threads);
    } finally {
      executor.shutdownNow();
    }
  }
}
