package dev.codebook.server.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.IndexSpec;
import dev.codebook.index.SearchParams;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import dev.codebook.server.collection.Collection;
import dev.codebook.server.collection.CollectionRegistry;
import dev.codebook.server.job.JobRegistry;
import dev.codebook.server.metrics.ServerMetrics;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The scheduler without the transport: merging queued tasks, rejection, callers that left. */
class SearchSchedulerTest {

  private static final int DIM = 13;

  private CollectionRegistry registry;
  private Collection collection;
  private ThreadPoolExecutor executor;
  private ServerMetrics metrics;

  @BeforeEach
  void setUp() {
    registry = new CollectionRegistry();
    collection = registry.create("c", DIM, Similarity.EUCLIDEAN, IndexSpec.parse("Flat"));
    Random random = new Random(17);
    int n = 300;
    float[] data = new float[n * DIM];
    for (int i = 0; i < data.length; i++) {
      data[i] = random.nextFloat() * 2 - 1;
    }
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add("v" + i);
    }
    collection.upsert(ids, new FloatMatrix(n, DIM, data), Collections.nCopies(n, Map.of()));
    executor = new ThreadPoolExecutor(1, 1, 0L, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(4));
    metrics = new ServerMetrics(registry, executor, new JobRegistry(1, 0, job -> {}));
  }

  @AfterEach
  void tearDown() {
    executor.shutdownNow();
    registry.close();
  }

  /** Hears one task's outcome. */
  private static final class Answer implements SearchListener {
    final CompletableFuture<Collection.Hit[]> hits = new CompletableFuture<>();
    volatile boolean cancelled;

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public void onHits(Collection.Hit[][] all, int from, int to) {
      assertEquals(1, to - from);
      hits.complete(all[from]);
    }

    @Override
    public void onError(RuntimeException e) {
      hits.completeExceptionally(e);
    }
  }

  private SearchTask task(FloatMatrix query, Answer answer) {
    return new SearchTask(collection, query, 5, SearchParams.DEFAULTS, null, false, false, answer);
  }

  private static FloatMatrix query(int seed) {
    Random random = new Random(seed);
    float[] q = new float[DIM];
    for (int i = 0; i < DIM; i++) {
      q[i] = random.nextFloat() * 2 - 1;
    }
    return new FloatMatrix(1, DIM, q);
  }

  /** Blocks the only search thread until the returned latch is released. */
  private CountDownLatch blockSearchThread() throws InterruptedException {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    executor.execute(() -> {
      started.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    started.await();
    return release;
  }

  @Test
  void mergedTasksGetExactlyWhatALoneSearchGets() throws Exception {
    SearchScheduler scheduler = new SearchScheduler(executor, 4, 16, metrics);
    CountDownLatch release = blockSearchThread();
    List<Answer> answers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Answer a = new Answer();
      answers.add(a);
      scheduler.submit(task(query(i), a));
    }
    release.countDown();
    for (int i = 0; i < 4; i++) {
      Collection.Hit[] merged = answers.get(i).hits.get(10, TimeUnit.SECONDS);
      Collection.Hit[] alone = collection.search(query(i), 5, SearchParams.DEFAULTS, false, false,
          () -> false)[0];
      assertEquals(alone.length, merged.length);
      for (int j = 0; j < alone.length; j++) {
        assertEquals(alone[j].id(), merged[j].id(), "query " + i + " rank " + j);
        assertEquals(alone[j].score(), merged[j].score(), "query " + i + " rank " + j);
      }
    }
  }

  @Test
  void aCallerThatLeftWhileQueuedIsNotSearched() throws Exception {
    SearchScheduler scheduler = new SearchScheduler(executor, 4, 16, metrics);
    CountDownLatch release = blockSearchThread();
    Answer gone = new Answer();
    Answer staying = new Answer();
    scheduler.submit(task(query(1), gone));
    scheduler.submit(task(query(2), staying));
    gone.cancelled = true;
    release.countDown();
    Exception e = assertThrows(Exception.class, () -> gone.hits.get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof CancellationException, e.toString());
    assertEquals(SearchScheduler.LEFT_WHILE_QUEUED, e.getCause().getMessage());
    assertEquals(5, staying.hits.get(10, TimeUnit.SECONDS).length);
  }

  @Test
  void aFullQueueAndAShutDownExecutorAreRejectedDistinctly() throws Exception {
    SearchScheduler scheduler = new SearchScheduler(executor, 4, 1, metrics);
    CountDownLatch release = blockSearchThread();
    for (int i = 0; i < 4; i++) {
      scheduler.submit(task(query(i), new Answer()));
    }
    SearchRejectedException full = assertThrows(SearchRejectedException.class,
        () -> scheduler.submit(task(query(9), new Answer())));
    assertFalse(full.shutdown());
    assertEquals(4, full.queueCapacity());
    assertEquals(1, full.threads());
    release.countDown();
    executor.shutdown();
    SearchRejectedException stopping = assertThrows(SearchRejectedException.class,
        () -> scheduler.submit(task(query(9), new Answer())));
    assertTrue(stopping.shutdown());
  }

  @Test
  void chunksAreAtLeastHalfTheSplitThreshold() {
    assertEquals(SearchScheduler.MIN_SPLIT_QUERIES / 2, SearchScheduler.chunkRows(16, 4));
    assertEquals(9, SearchScheduler.chunkRows(100, 3));
  }
}
