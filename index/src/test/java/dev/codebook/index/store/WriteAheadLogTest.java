package dev.codebook.index.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteAheadLogTest {

  static final int DIM = 4;

  @TempDir Path dir;

  static WalRecord.Upsert upsert(String id, float x) {
    return new WalRecord.Upsert(List.of(id), new float[] {x, 1, 2, 3}, List.of(new byte[] {7}));
  }

  @Test
  void groupCommitAcknowledgesManyWritersWithFewFsyncs() throws Exception {
    try (Directory d = FSDirectory.open(dir);
        WriteAheadLog wal = WriteAheadLog.create(d, dir, DIM,
            Durability.group(Duration.ofMillis(20)), 1, 0)) {
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int thread = t;
        done.add(pool.submit(() -> {
          for (int i = 0; i < 20; i++) {
            long seq;
            synchronized (wal) {
              seq = wal.append(upsert("t" + thread + "-" + i, i));
            }
            wal.awaitDurable(seq);
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      pool.shutdown();
      assertEquals(160, wal.lastSeq());
      // 160 acknowledged writes; each fsync covered many of them.
      assertTrue(wal.syncCount() < 80, wal.syncCount() + " fsyncs");
    }
    List<WalRecord> replayed = new ArrayList<>();
    try (Directory d = FSDirectory.open(dir)) {
      WriteAheadLog.replay(d, dir, 1, DIM, replayed::add);
    }
    assertEquals(160, replayed.size());
  }

  @Test
  void fsyncPolicySyncsBeforeAcknowledging() throws Exception {
    try (Directory d = FSDirectory.open(dir);
        WriteAheadLog wal = WriteAheadLog.create(d, dir, DIM, Durability.fsync(), 1, 0)) {
      for (int i = 0; i < 5; i++) {
        wal.awaitDurable(wal.append(upsert("a" + i, i)));
      }
      assertEquals(5, wal.syncCount());
    }
  }

  @Test
  void aBadRecordInALogThatIsNotTheNewestIsCorruptionNotATornTail() throws Exception {
    try (Directory d = FSDirectory.open(dir);
        WriteAheadLog wal = WriteAheadLog.create(d, dir, DIM, Durability.none(), 1, 0)) {
      wal.append(upsert("a", 1));
      wal.append(upsert("b", 2));
      wal.roll();
      wal.append(upsert("c", 3));
    }
    Path first = dir.resolve(StoreFiles.wal(1));
    byte[] b = Files.readAllBytes(first);
    b[b.length - 3] ^= 1;
    Files.write(first, b);
    try (Directory d = FSDirectory.open(dir)) {
      CorruptIndexException e = assertThrows(CorruptIndexException.class,
          () -> WriteAheadLog.replay(d, dir, 1, DIM, r -> {}));
      assertTrue(e.getMessage().contains("wal_1.log"), e.getMessage());
    }
  }

  @Test
  void replayKeepsRecordsInOrderWithTheirContent() throws Exception {
    try (Directory d = FSDirectory.open(dir);
        WriteAheadLog wal = WriteAheadLog.create(d, dir, DIM, Durability.none(), 1, 0)) {
      wal.append(upsert("a", 1));
      wal.append(new WalRecord.Delete(List.of("a", "zz")));
    }
    List<WalRecord> got = new ArrayList<>();
    try (Directory d = FSDirectory.open(dir)) {
      WriteAheadLog.Replayed r = WriteAheadLog.replay(d, dir, 1, DIM, got::add);
      assertEquals(2, r.lastSeq());
    }
    WalRecord.Upsert u = (WalRecord.Upsert) got.get(0);
    assertEquals(List.of("a"), u.ids());
    assertEquals(1f, u.values()[0]);
    assertEquals(7, u.attributes().get(0)[0]);
    assertEquals(List.of("a", "zz"), ((WalRecord.Delete) got.get(1)).ids());
  }
}
