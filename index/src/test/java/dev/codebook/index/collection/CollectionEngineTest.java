package dev.codebook.index.collection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.index.IndexFactory;
import dev.codebook.index.IndexSpec;
import dev.codebook.index.store.BackupFile;
import dev.codebook.index.store.Durability;
import dev.codebook.index.store.StoreFiles;
import dev.codebook.index.SearchParams;
import dev.codebook.index.vector.AnnBenchmarksHdf5;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.index.vector.Similarity;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.lucene.index.CorruptIndexException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CollectionEngineTest {

  static final Path SAMPLE = Path.of("../samples/debian-minilm-5k.hdf5");
  static FloatMatrix train;
  static final int DIM = 384;

  @TempDir Path tmp;

  @BeforeAll
  static void load() throws IOException {
    train = AnnBenchmarksHdf5.readVectors(SAMPLE, "train");
  }

  static CollectionOptions opts() {
    return CollectionOptions.defaults().withDurability(Durability.none())
        .withFlushRows(1000).withBackgroundMaintenance(false);
  }

  static void upsertRange(CollectionEngine s, int from, int to) throws IOException {
    List<String> ids = new ArrayList<>();
    List<byte[]> attrs = new ArrayList<>();
    for (int i = from; i < to; i++) {
      ids.add("v" + i);
      attrs.add(new byte[] {(byte) i});
    }
    s.upsert(ids, Arrays.copyOfRange(train.data(), from * DIM, to * DIM), attrs);
  }

  static FloatMatrix rows(int from, int to) {
    return train.slice(from, to);
  }

  @Test
  void restartsWithNothingToReplayDoNotPileUpLogFiles() throws IOException {
    Path dir = tmp.resolve("c");
    try (CollectionEngine s = CollectionEngine.create(dir, DIM, Similarity.COSINE,
        IndexSpec.flat(), opts())) {
      upsertRange(s, 0, 100);
    }
    for (int i = 0; i < 5; i++) {
      try (CollectionEngine r = CollectionEngine.open(dir, opts())) {
        assertEquals(100, r.liveCount());
      }
    }
    try (CollectionEngine r = CollectionEngine.open(dir, opts());
        var files = java.nio.file.Files.list(dir)) {
      assertEquals(1, files.filter(f -> f.getFileName().toString().startsWith("wal_")).count(),
          "only the open log");
      // The fresh log still takes writes that survive a crash.
      r.delete(List.of("v1"), false);
      r.closeWithoutFlush();
    }
    try (CollectionEngine r = CollectionEngine.open(dir, opts())) {
      assertEquals(99, r.liveCount());
      assertNull(r.get(List.of("v1")).get(0));
    }
  }

  @Test
  void writesSurviveReopenFromTheLogAlone() throws IOException {
    Path dir = tmp.resolve("c");
    CollectionEngine s = CollectionEngine.create(dir, DIM, Similarity.COSINE,
        IndexSpec.flat(), opts());
    upsertRange(s, 0, 500);
    s.delete(List.of("v3", "v4"), false);
    s.closeWithoutFlush();
    try (CollectionEngine r = CollectionEngine.open(dir, opts())) {
      assertEquals(498, r.liveCount());
      assertEquals(2, r.openStats().replayedRecords());
      assertNull(r.get(List.of("v3")).get(0));
      assertArrayEquals(train.row(7), r.get(List.of("v7")).get(0).values());
      assertArrayEquals(new byte[] {7}, r.get(List.of("v7")).get(0).attributes());
    }
  }

  @Test
  void searchSpansSegmentsAndBufferAndHonoursDeletesAfterReopen() throws IOException {
    Path dir = tmp.resolve("c");
    try (CollectionEngine s = CollectionEngine.create(dir, DIM, Similarity.COSINE, IndexSpec.flat(),
        opts())) {
      upsertRange(s, 0, 1500);
      s.flush();
      upsertRange(s, 1500, 2500);
      s.flush();
      upsertRange(s, 2500, 3000); // stays in the buffer
      assertEquals(2, s.segmentCount());
      // Each vector finds itself first, wherever it lives.
      for (int q : new int[] {5, 1700, 2900}) {
        assertEquals("v" + q, s.search(rows(q, q + 1), 1, SearchParams.DEFAULTS, false, false,
            () -> false)[0][0].id());
      }
      s.delete(List.of("v5", "v1700"), false);
      assertTrue(!s.search(rows(5, 6), 1, SearchParams.DEFAULTS, false, false, () -> false)[0][0]
          .id().equals("v5"));
    }
    try (CollectionEngine r = CollectionEngine.open(dir, opts())) {
      assertEquals(2998, r.liveCount());
      CollectionEngine.Hit[] hits = r.search(rows(1700, 1701), 3, SearchParams.DEFAULTS, true,
          true, () -> false)[0];
      assertTrue(Arrays.stream(hits).noneMatch(h -> h.id().equals("v1700")));
      assertEquals("v2900", r.search(rows(2900, 2901), 1, SearchParams.DEFAULTS, false, false,
          () -> false)[0][0].id());
    }
  }

  @Test
  void replacingAnIdKeepsOnlyTheNewVector() throws IOException {
    try (CollectionEngine s = CollectionEngine.create(tmp.resolve("c"), DIM, Similarity.COSINE,
        IndexSpec.flat(), opts())) {
      upsertRange(s, 0, 10);
      s.flush();
      s.upsert(List.of("v1"), train.row(20), List.of(new byte[0]));
      assertEquals(10, s.liveCount());
      assertArrayEquals(train.row(20), s.get(List.of("v1")).get(0).values());
      CollectionEngine.Hit[] hits = s.search(rows(1, 2), 10, SearchParams.DEFAULTS, false, false,
          () -> false)[0];
      assertTrue(Arrays.stream(hits).filter(h -> h.id().equals("v1")).count() == 1);
    }
  }

  @Test
  void buildTrainsACodebookEncodesSegmentsAndReopensReady() throws IOException {
    Path dir = tmp.resolve("c");
    IndexSpec spec = IndexSpec.parse("IVF16,PQ48x4fs,RFlat");
    try (CollectionEngine s = CollectionEngine.create(dir, DIM, Similarity.COSINE, spec, opts())) {
      upsertRange(s, 0, 2000);
      s.flush();
      upsertRange(s, 2000, 3000);
      s.delete(List.of("v10"), false);
      CollectionEngine.BuildResult b = s.build(IndexFactory.BuildOptions.defaults(), 100_000);
      assertEquals(1, b.codebookVersion());
      assertEquals(1, s.segmentCount());
      assertEquals(2999, s.storedRows());
      upsertRange(s, 3000, 3500); // encoded with codebook 1 at the next flush
      s.flush();
      assertEquals(2, s.segmentCount());
    }
    try (CollectionEngine r = CollectionEngine.open(dir, opts())) {
      assertEquals(1, r.codebookVersion());
      assertEquals(3499, r.liveCount());
      int hitsSelf = 0;
      for (int q = 0; q < 3500; q += 97) {
        if (r.search(rows(q, q + 1), 1, new SearchParams(16, 4), false, false, () -> false)[0][0]
            .id().equals("v" + q)) {
          hitsSelf++;
        }
      }
      assertTrue(hitsSelf >= 33, "self recall " + hitsSelf + " of 37");
    }
  }

  @Test
  void reRankedScoresAreExactCosinesOfTheStoredVectorsUnderAnOpqRotation() throws IOException {
    // Segments keep the vectors as written; the index rotates the query back and divides by the
    // norm instead of normalizing and rotating every candidate. The scores must not notice.
    try (CollectionEngine s = CollectionEngine.create(tmp.resolve("c"), DIM, Similarity.COSINE,
        IndexSpec.parse("OPQ16,IVF8,PQ16,RFlat"), opts())) {
      upsertRange(s, 0, 1500);
      s.build(IndexFactory.BuildOptions.defaults(), 100_000);
      for (int q = 0; q < 1500; q += 211) {
        float[] a = train.row(q), b = train.row(q + 1);
        float[] query = new float[DIM];
        for (int i = 0; i < DIM; i++) {
          query[i] = 2 * a[i] + b[i]; // neither a stored vector nor of unit length
        }
        CollectionEngine.Hit[] hits = s.search(new FloatMatrix(1, DIM, query), 10,
            new SearchParams(8, 10), false, false, () -> false)[0];
        assertEquals(10, hits.length);
        for (CollectionEngine.Hit h : hits) {
          float[] x = train.row(Integer.parseInt(h.id().substring(1)));
          assertEquals(cosine(query, x), h.score(), 1e-4, h.id());
        }
      }
    }
  }

  private static double cosine(float[] a, float[] b) {
    double dot = 0, na = 0, nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  @Test
  void anAttributeFilterLimitsHitsInSegmentsAndBuffer() throws IOException {
    try (CollectionEngine s = CollectionEngine.create(tmp.resolve("c"), DIM, Similarity.COSINE,
        IndexSpec.flat(), opts())) {
      upsertRange(s, 0, 1200);
      s.flush();
      upsertRange(s, 1200, 1500);
      // Attributes are the low byte of the row number: keep the multiples of 4.
      CollectionEngine.Hit[] hits = s.search(rows(1201, 1202), 20, SearchParams.DEFAULTS,
          a -> (a[0] & 3) == 0, false, true, () -> false)[0];
      assertEquals(20, hits.length);
      for (CollectionEngine.Hit h : hits) {
        assertEquals(0, h.attributes()[0] & 3, h.id());
        assertTrue(Integer.parseInt(h.id().substring(1)) % 4 == 0, h.id());
      }
    }
  }

  @Test
  void mergeReclaimsDeletedRows() throws IOException {
    try (CollectionEngine s = CollectionEngine.create(tmp.resolve("c"), DIM, Similarity.COSINE,
        IndexSpec.flat(), opts())) {
      upsertRange(s, 0, 1000);
      s.flush();
      List<String> dead = new ArrayList<>();
      for (int i = 0; i < 600; i++) {
        dead.add("v" + i);
      }
      s.delete(dead, false);
      s.mergeIfNeeded();
      assertEquals(400, s.storedRows());
      assertEquals(400, s.liveCount());
      assertEquals("v700", s.search(rows(700, 701), 1, SearchParams.DEFAULTS, false, false,
          () -> false)[0][0].id());
    }
  }

  @Test
  void backupRestoresEveryAcknowledgedWrite() throws IOException {
    Path dir = tmp.resolve("c");
    try (CollectionEngine s = CollectionEngine.create(dir, DIM, Similarity.COSINE, IndexSpec.flat(),
        opts())) {
      upsertRange(s, 0, 1200);
      s.flush();
      upsertRange(s, 1200, 1300);
      s.delete(List.of("v1"), false);
      CollectionEngine.BackupResult b = s.backup(tmp.resolve("backup"));
      assertEquals(1299, b.liveCount());
      try (var files = Files.list(tmp.resolve("backup"))) {
        assertEquals(b.files(), files.count());
      }
      upsertRange(s, 1300, 1400); // after the backup
    }
    try (CollectionEngine r = CollectionEngine.restore(tmp.resolve("backup"), tmp.resolve("r"),
        opts())) {
      assertEquals(1299, r.liveCount());
      assertNull(r.get(List.of("v1300")).get(0));
      assertArrayEquals(train.row(1250), r.get(List.of("v1250")).get(0).values());
    }
  }

  @Test
  void aDamagedLogInABackupFailsRestoreNamingItInsteadOfDroppingWrites() throws IOException {
    try (CollectionEngine s = CollectionEngine.create(tmp.resolve("c"), DIM, Similarity.COSINE,
        IndexSpec.flat(), opts())) {
      upsertRange(s, 0, 100);
      s.backup(tmp.resolve("backup"));
    }
    Path log = newestLog(tmp.resolve("backup"));
    byte[] b = Files.readAllBytes(log);
    b[b.length - 3] ^= 1; // in the last record: on open alone it would pass for a torn write
    Files.write(log, b);
    CorruptIndexException e = assertThrows(CorruptIndexException.class,
        () -> CollectionEngine.restore(tmp.resolve("backup"), tmp.resolve("r"), opts()));
    assertTrue(e.getMessage().contains(log.getFileName().toString()), e.getMessage());
  }

  @Test
  void aBackupWithoutItsTableOfContentsIsNotRestored() throws IOException {
    try (CollectionEngine s = CollectionEngine.create(tmp.resolve("c"), DIM, Similarity.COSINE,
        IndexSpec.flat(), opts())) {
      upsertRange(s, 0, 10);
      s.backup(tmp.resolve("backup"));
    }
    assertTrue(CollectionEngine.isBackup(tmp.resolve("backup")));
    Files.delete(tmp.resolve("backup").resolve(BackupFile.NAME)); // as if cut short
    assertFalse(CollectionEngine.isBackup(tmp.resolve("backup")));
    assertThrows(IllegalArgumentException.class,
        () -> CollectionEngine.restore(tmp.resolve("backup"), tmp.resolve("r"), opts()));
  }

  @Test
  void tornLogTailIsDroppedAndEverythingBeforeItKept() throws IOException {
    Path dir = tmp.resolve("c");
    CollectionEngine s = CollectionEngine.create(dir, DIM, Similarity.COSINE,
        IndexSpec.flat(), opts());
    upsertRange(s, 0, 10);
    upsertRange(s, 10, 20);
    s.closeWithoutFlush();
    Path log = newestLog(dir);
    long len = Files.size(log);
    try (FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE)) {
      ch.truncate(len - 100); // tears the second record
    }
    try (CollectionEngine r = CollectionEngine.open(dir, opts())) {
      assertEquals(10, r.liveCount());
      assertEquals(1, r.openStats().replayedRecords());
      assertTrue(r.openStats().truncatedBytes() > 0);
      upsertRange(r, 20, 25);
    }
    try (CollectionEngine r = CollectionEngine.open(dir, opts())) {
      assertEquals(15, r.liveCount());
    }
  }

  @Test
  void corruptLogTailRecordIsDetectedByChecksum() throws IOException {
    Path dir = tmp.resolve("c");
    CollectionEngine s = CollectionEngine.create(dir, DIM, Similarity.COSINE,
        IndexSpec.flat(), opts());
    upsertRange(s, 0, 10);
    upsertRange(s, 10, 20);
    s.closeWithoutFlush();
    Path log = newestLog(dir);
    flip(log, Files.size(log) - 50);
    try (CollectionEngine r = CollectionEngine.open(dir, opts())) {
      assertEquals(10, r.liveCount());
    }
  }

  @Test
  void everySegmentFileFlippedOrTruncatedFailsNamingTheFile() throws IOException {
    Path dir = tmp.resolve("c");
    try (CollectionEngine s = CollectionEngine.create(dir, DIM, Similarity.COSINE,
        IndexSpec.parse("IVF16,PQ48x4fs,RFlat"), opts())) {
      upsertRange(s, 0, 1200);
      s.build(IndexFactory.BuildOptions.defaults(), 100_000);
      s.delete(List.of("v1"), false);
      s.commit();
    }
    List<Path> files;
    try (var l = Files.list(dir)) {
      files = l.filter(p -> {
        String n = p.getFileName().toString();
        return n.startsWith("_") || n.startsWith("codebook_") || n.startsWith("manifest_");
      }).sorted().toList();
    }
    assertTrue(files.size() >= 6, files.toString());
    for (Path f : files) {
      byte[] orig = Files.readAllBytes(f);
      for (String damage : List.of("flip", "truncate")) {
        if (damage.equals("flip")) {
          flip(f, orig.length / 2);
        } else {
          try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(orig.length - 7);
          }
        }
        CorruptIndexException e = assertThrows(CorruptIndexException.class,
            () -> CollectionEngine.open(dir, opts()), damage + " " + f);
        assertTrue(e.getMessage().contains(f.getFileName().toString()),
            damage + ": " + e.getMessage());
        Files.write(f, orig);
      }
    }
    try (CollectionEngine r = CollectionEngine.open(dir, opts())) {
      assertEquals(1199, r.liveCount());
    }
  }

  @Test
  void manifestCommitIsAtomicAPendingManifestIsIgnored() throws IOException {
    Path dir = tmp.resolve("c");
    try (CollectionEngine s = CollectionEngine.create(dir, DIM, Similarity.COSINE, IndexSpec.flat(),
        opts())) {
      upsertRange(s, 0, 1100);
      s.flush();
    }
    // A crash between writing and renaming leaves a pending file: the old commit stays in force.
    Files.write(dir.resolve("pending_manifest_99"), new byte[] {1, 2, 3});
    try (CollectionEngine r = CollectionEngine.open(dir, opts())) {
      assertEquals(1100, r.liveCount());
    }
    assertTrue(Files.notExists(dir.resolve("pending_manifest_99")));
  }

  static Path newestLog(Path dir) throws IOException {
    try (var l = Files.list(dir)) {
      return l.filter(p -> StoreFiles.walGeneration(p.getFileName().toString()) >= 0)
          .filter(p -> {
            try {
              return Files.size(p) > 100;
            } catch (IOException e) {
              return false;
            }
          })
          .max((a, b) -> Long.compare(StoreFiles.walGeneration(a.getFileName().toString()),
              StoreFiles.walGeneration(b.getFileName().toString()))).orElseThrow();
    }
  }

  static void flip(Path f, long at) throws IOException {
    byte[] b = Files.readAllBytes(f);
    b[(int) at] ^= 0x5A;
    Files.write(f, b);
  }
}
