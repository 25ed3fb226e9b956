package dev.codebook.server;

import static dev.codebook.server.ServerTestSupport.assertStatus;
import static dev.codebook.server.ServerTestSupport.create;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.api.v1.BackupCollectionRequest;
import dev.codebook.api.v1.BackupCollectionResponse;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.DeleteVectorsRequest;
import dev.codebook.api.v1.GetCollectionRequest;
import dev.codebook.api.v1.GetVectorsRequest;
import dev.codebook.api.v1.ListCollectionsRequest;
import dev.codebook.api.v1.Metric;
import dev.codebook.api.v1.RestoreCollectionRequest;
import dev.codebook.api.v1.SearchRequest;
import dev.codebook.api.v1.SearchResponse;
import dev.codebook.api.v1.UpsertVectorsRequest;
import dev.codebook.index.collection.CollectionEngine;
import dev.codebook.index.collection.CollectionOptions;
import dev.codebook.index.store.Durability;
import dev.codebook.index.vector.FloatMatrix;
import dev.codebook.server.collection.CollectionRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BackupCollection and RestoreCollection over real gRPC, on real directories. */
class BackupRestoreTest {

  static final String SPEC = "IVF32,PQ48x4fs,RFlat";
  static final int BASE = 3500;
  static final int WRITER_BATCH = 10;

  @TempDir Path tmp;

  Path data() {
    return tmp.resolve("data");
  }

  CodebookServer start() throws Exception {
    return start(tmp);
  }

  CodebookServer start(Path backupRoot) throws Exception {
    return CodebookServer.start(ServerTestSupport.testConfig().withBackupRoot(backupRoot),
        CollectionRegistry.open(data(), CollectionOptions.defaults().withDurability(
            Durability.group(java.time.Duration.ofMillis(2)))));
  }

  static Collection get(ServerTestSupport.Stubs s, String id) {
    return s.collections().getCollection(
        GetCollectionRequest.newBuilder().setName("collections/" + id).build());
  }

  static BackupCollectionResponse backup(ServerTestSupport.Stubs s, String id, Path dir) {
    return s.collections().backupCollection(BackupCollectionRequest.newBuilder()
        .setName("collections/" + id).setDirectory(dir.toString()).build());
  }

  static Collection restore(ServerTestSupport.Stubs s, String id, Path dir) {
    return s.collections().restoreCollection(RestoreCollectionRequest.newBuilder()
        .setName("collections/" + id).setDirectory(dir.toString()).build());
  }

  static SearchRequest search(String id, FloatMatrix test) {
    return ServerTestSupport.searchRequest("collections/" + id, test, 0, 50, 10).setNprobe(8)
        .setRerank(10).build();
  }

  static List<List<String>> ids(SearchResponse r) {
    return r.getResultsList().stream()
        .map(q -> q.getNeighborsList().stream().map(n -> n.getId()).toList()).toList();
  }

  /** Whether every id in {@code ids} is stored (GetVectors is all or nothing). */
  static boolean allPresent(ServerTestSupport.Stubs s, String id, List<String> ids) {
    try {
      s.vectors().getVectors(GetVectorsRequest.newBuilder().setCollection("collections/" + id)
          .addAllIds(ids).build());
      return true;
    } catch (StatusRuntimeException e) {
      assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), e.getStatus().toString());
      return false;
    }
  }

  static List<String> writerIds(int from, int to) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add("w-" + i);
    }
    return out;
  }

  @Test
  void aBackupTakenDuringWritesRestoresTheSnapshotWithTheSameAnswers() throws Exception {
    FloatMatrix train = ServerTestSupport.sample().train();
    FloatMatrix test = ServerTestSupport.sample().test();
    Path backupDir = tmp.resolve("backups/docs-1");
    BackupCollectionResponse taken;
    List<List<String>> atBackup;
    int ackedBefore;
    int ackedAfter;
    try (CodebookServer server = start()) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      create(s, "docs", 384, Metric.COSINE, SPEC);
      ServerTestSupport.upsertRows(s, "collections/docs", train, 0, BASE);
      ServerTestSupport.buildAndWait(s, "collections/docs", 0);
      // Deletes that change answers: the best hit of the first five queries.
      List<List<String>> built = ids(s.search().search(search("docs", test)));
      List<String> deleted = new ArrayList<>();
      for (int q = 0; q < 5; q++) {
        if (!deleted.contains(built.get(q).get(0))) {
          deleted.add(built.get(q).get(0));
        }
      }
      s.vectors().deleteVectors(DeleteVectorsRequest.newBuilder()
          .setCollection("collections/docs").addAllIds(deleted).build());
      atBackup = ids(s.search().search(search("docs", test)));
      for (int q = 0; q < 5; q++) {
        assertFalse(atBackup.get(q).contains(built.get(q).get(0)));
      }

      // A writer upserts batches "w-0".."w-9", "w-10".. during the backup. Its vectors are
      // negated queries (cosine -1 to their own query), so they never enter a top 10 and the
      // answers stay those of the base vectors.
      AtomicInteger acked = new AtomicInteger();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicReference<Throwable> writerFailure = new AtomicReference<>();
      Thread writer = Thread.ofPlatform().name("writer").start(() -> {
        try {
          for (int i = 0; !stop.get(); i += WRITER_BATCH) {
            UpsertVectorsRequest.Builder r = UpsertVectorsRequest.newBuilder()
                .setCollection("collections/docs");
            for (int j = i; j < i + WRITER_BATCH; j++) {
              float[] v = test.row(j % test.rows()).clone();
              for (int d = 0; d < v.length; d++) {
                v[d] = -v[d];
              }
              r.addVectors(ServerTestSupport.vector("w-" + j, v));
            }
            s.vectors().upsertVectors(r.build());
            acked.set(i + WRITER_BATCH);
          }
        } catch (Throwable t) {
          writerFailure.set(t);
        }
      });
      while (acked.get() < 200 && writerFailure.get() == null) {
        Thread.sleep(1);
      }
      ackedBefore = acked.get();
      taken = backup(s, "docs", backupDir);
      ackedAfter = acked.get();
      long until = System.nanoTime() + 5_000_000_000L;
      while (acked.get() < ackedAfter + 100 && System.nanoTime() < until) {
        Thread.sleep(1);
      }
      stop.set(true);
      writer.join();
      assertEquals(null, writerFailure.get());

      assertEquals("collections/docs", taken.getName());
      assertEquals(backupDir.toString(), taken.getDirectory());
      try (var files = Files.list(backupDir)) {
        assertEquals(taken.getFileCount(), files.count());
      }
      long bytes = 0;
      try (var files = Files.list(backupDir)) {
        for (Path f : files.toList()) {
          bytes += Files.size(f);
        }
      }
      assertEquals(taken.getSizeBytes(), bytes);
      assertTrue(Files.exists(backupDir.resolve("manifest_" + taken.getManifestGeneration())),
          "the manifest generation names the backup's manifest file");

      // The snapshot holds a prefix of the writer's batches: all acknowledged before the call,
      // at most the one in flight when it returned, and nothing half-applied.
      int n = (int) (taken.getVectorCount() - (BASE - deleted.size()));
      assertTrue(n >= ackedBefore && n <= ackedAfter + WRITER_BATCH,
          n + " writer vectors, acknowledged " + ackedBefore + " before and " + ackedAfter
              + " after");
      assertEquals(0, n % WRITER_BATCH, "whole batches only: " + n);

      Collection copy = restore(s, "docs-copy", backupDir);
      assertEquals("collections/docs-copy", copy.getName());
      assertEquals(taken.getVectorCount(), copy.getVectorCount());
      assertEquals(Collection.State.READY, copy.getState());
      assertEquals(SPEC, copy.getIndexSpec());
      assertEquals(384, copy.getDimension());
      assertTrue(allPresent(s, "docs-copy", writerIds(0, n)));
      assertFalse(allPresent(s, "docs-copy", writerIds(n, n + 1)));
      for (String id : deleted) {
        assertFalse(allPresent(s, "docs-copy", List.of(id)), "deleted " + id);
      }
      assertEquals(atBackup, ids(s.search().search(search("docs-copy", test))));
      // The original went on: it has every batch the writer got acknowledged.
      assertEquals(BASE - deleted.size() + acked.get(), get(s, "docs").getVectorCount());
      ServerTestSupport.close(ch);
    }
    // The restored collection is an ordinary one: it lives in the data directory and reopens.
    assertTrue(CollectionEngine.exists(data().resolve("collections/docs-copy")));
    try (CodebookServer server = start()) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      assertEquals(taken.getVectorCount(), get(s, "docs-copy").getVectorCount());
      assertEquals(atBackup, ids(s.search().search(search("docs-copy", test))));
      ServerTestSupport.close(ch);
    }
  }

  @Test
  void aDamagedBackupFailsRestoreWithDataLossNamingTheFileAndLeavesNothingBehind()
      throws Exception {
    FloatMatrix train = ServerTestSupport.sample().train();
    Path good = tmp.resolve("good");
    Path bad = tmp.resolve("bad");
    try (CodebookServer server = start()) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      create(s, "src", 384, Metric.COSINE, "Flat");
      ServerTestSupport.upsertRows(s, "collections/src", train, 0, 1000);
      ServerTestSupport.buildAndWait(s, "collections/src", 0); // Flat: merged into a segment
      backup(s, "src", good);
      backup(s, "src", bad);
      Path vec;
      try (var files = Files.list(bad)) {
        vec = files.filter(p -> p.getFileName().toString().endsWith(".vec")).findFirst()
            .orElseThrow();
      }
      byte[] b = Files.readAllBytes(vec);
      b[b.length / 2] ^= 1;
      Files.write(vec, b);

      StatusRuntimeException e = assertStatus(Status.Code.DATA_LOSS, null,
          () -> restore(s, "copy", bad));
      assertTrue(e.getStatus().getDescription().contains(vec.getFileName().toString()),
          e.getStatus().getDescription());
      // Nothing half-created: no collection, no directory, the name is free.
      assertStatus(Status.Code.NOT_FOUND, null, () -> get(s, "copy"));
      try (var dirs = Files.list(data().resolve("collections"))) {
        assertEquals(List.of("src"), dirs.map(p -> p.getFileName().toString()).toList());
      }
      assertEquals(List.of("collections/src"), s.collections().listCollections(
          ListCollectionsRequest.newBuilder().build()).getCollectionsList().stream()
          .map(Collection::getName).toList());
      assertEquals(1000, restore(s, "copy", good).getVectorCount());
      assertEquals("5", s.search().search(ServerTestSupport.searchRequest("collections/copy",
          train, 5, 6, 1).build()).getResults(0).getNeighbors(0).getId());
      ServerTestSupport.close(ch);
    }
  }

  @Test
  void badBackupAndRestoreRequestsGetTheirStatus() throws Exception {
    FloatMatrix train = ServerTestSupport.sample().train();
    try (CodebookServer server = start()) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      create(s, "src", 384, Metric.COSINE, "Flat");
      ServerTestSupport.upsertRows(s, "collections/src", train, 0, 10);
      Path full = Files.createDirectories(tmp.resolve("full"));
      Files.writeString(full.resolve("keep.txt"), "mine");
      Path file = Files.writeString(tmp.resolve("a-file"), "x");
      Path empty = Files.createDirectories(tmp.resolve("empty"));

      assertStatus(Status.Code.INVALID_ARGUMENT, "directory", () -> s.collections()
          .backupCollection(BackupCollectionRequest.newBuilder().setName("collections/src")
              .build()));
      assertStatus(Status.Code.INVALID_ARGUMENT, "directory", () -> s.collections()
          .backupCollection(BackupCollectionRequest.newBuilder().setName("collections/src")
              .setDirectory("relative/dir").build()));
      assertStatus(Status.Code.INVALID_ARGUMENT, "directory",
          () -> backup(s, "src", data().resolve("collections/sneaky")));
      assertStatus(Status.Code.INVALID_ARGUMENT, "name", () -> s.collections().backupCollection(
          BackupCollectionRequest.newBuilder().setName("src").setDirectory(empty.toString())
              .build()));
      assertStatus(Status.Code.NOT_FOUND, null, () -> backup(s, "nope", empty));
      StatusRuntimeException notEmpty = assertStatus(Status.Code.FAILED_PRECONDITION, null,
          () -> backup(s, "src", full));
      assertTrue(notEmpty.getStatus().getDescription().contains("not empty"),
          notEmpty.getStatus().getDescription());
      assertEquals("mine", Files.readString(full.resolve("keep.txt")), "left untouched");
      assertStatus(Status.Code.FAILED_PRECONDITION, null, () -> backup(s, "src", file));

      BackupCollectionResponse ok = backup(s, "src", empty);
      assertEquals(10, ok.getVectorCount());
      assertStatus(Status.Code.FAILED_PRECONDITION, null, () -> backup(s, "src", empty));

      assertStatus(Status.Code.ALREADY_EXISTS, null, () -> restore(s, "src", empty));
      StatusRuntimeException notBackup = assertStatus(Status.Code.FAILED_PRECONDITION, null,
          () -> restore(s, "other", full));
      assertTrue(notBackup.getStatus().getDescription().contains("no complete collection backup"),
          notBackup.getStatus().getDescription());
      assertStatus(Status.Code.FAILED_PRECONDITION, null,
          () -> restore(s, "other", tmp.resolve("missing")));
      assertStatus(Status.Code.INVALID_ARGUMENT, "directory", () -> s.collections()
          .restoreCollection(RestoreCollectionRequest.newBuilder().setName("collections/other")
              .setDirectory("empty").build()));
      assertStatus(Status.Code.INVALID_ARGUMENT, "name", () -> restore(s, "Bad_Name", empty));
      assertStatus(Status.Code.NOT_FOUND, null, () -> get(s, "other"));
      assertEquals(10, restore(s, "other", empty).getVectorCount());
      ServerTestSupport.close(ch);
    }
  }

  @Test
  void backupsStayUnderTheBackupRootAndOutOfTheDataDirectoryThroughLinks() throws Exception {
    FloatMatrix train = ServerTestSupport.sample().train();
    Path root = Files.createDirectories(tmp.resolve("backups"));
    try (CodebookServer server = start(root)) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      create(s, "src", 384, Metric.COSINE, "Flat");
      ServerTestSupport.upsertRows(s, "collections/src", train, 0, 10);
      // A link under the root into the data directory, and one out of the root.
      Path intoData = Files.createSymbolicLink(root.resolve("into-data"), data());
      Path out = Files.createDirectories(tmp.resolve("elsewhere"));
      Path outOfRoot = Files.createSymbolicLink(root.resolve("out"), out);

      StatusRuntimeException viaLink = assertStatus(Status.Code.INVALID_ARGUMENT, "directory",
          () -> backup(s, "src", intoData.resolve("collections").resolve("evil")));
      assertTrue(viaLink.getStatus().getDescription().contains("inside the server's data"
          + " directory"), viaLink.getStatus().getDescription());
      assertFalse(Files.exists(data().resolve("collections").resolve("evil")),
          "the backup wrote into the data directory through the link");
      assertStatus(Status.Code.INVALID_ARGUMENT, "directory",
          () -> backup(s, "src", outOfRoot.resolve("b")));
      assertStatus(Status.Code.INVALID_ARGUMENT, "directory",
          () -> backup(s, "src", root.resolve("..").resolve("elsewhere").resolve("c")));
      StatusRuntimeException proc = assertStatus(Status.Code.INVALID_ARGUMENT, "directory",
          () -> backup(s, "src", Path.of("/proc/self/x")));
      assertTrue(proc.getStatus().getDescription().contains("outside the server's backup root"),
          proc.getStatus().getDescription());
      assertEquals(List.of(), listFiles(out), "nothing written outside the root");
      assertEquals(List.of("collections/src"), s.collections().listCollections(
          ListCollectionsRequest.getDefaultInstance()).getCollectionsList().stream()
          .map(Collection::getName).toList());

      assertEquals(10, backup(s, "src", root.resolve("ok")).getVectorCount());
      assertStatus(Status.Code.INVALID_ARGUMENT, "directory",
          () -> restore(s, "copy", outOfRoot));
      assertEquals(10, restore(s, "copy", root.resolve("ok")).getVectorCount());
      ServerTestSupport.close(ch);
    }
    // Still the same collections after a restart: nothing became one behind the server's back.
    try (CodebookServer server = start(root)) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      assertEquals(List.of("collections/copy", "collections/src"), s.collections()
          .listCollections(ListCollectionsRequest.getDefaultInstance()).getCollectionsList()
          .stream().map(Collection::getName).toList());
      ServerTestSupport.close(ch);
    }
  }

  @Test
  void aBackupCannotWriteIntoTheDataDirectoryOfAnotherRunningServer() throws Exception {
    Path otherData = tmp.resolve("other-data");
    try (CodebookServer server = start();
        CodebookServer other = CodebookServer.start(ServerTestSupport.testConfig(),
            CollectionRegistry.open(otherData, CollectionOptions.defaults()))) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      create(s, "src", 4, Metric.EUCLIDEAN, "Flat");
      StatusRuntimeException e = assertStatus(Status.Code.INVALID_ARGUMENT, "directory",
          () -> backup(s, "src", otherData.resolve("collections").resolve("planted")));
      assertTrue(e.getStatus().getDescription().contains("which a running process has open"),
          e.getStatus().getDescription());
      assertFalse(Files.exists(otherData.resolve("collections").resolve("planted")));
      assertEquals(0, other.registry().size());
      ServerTestSupport.close(ch);
    }
  }

  @Test
  void withoutABackupRootBackupsAreRefusedAndAnUnwritableTargetIsNotRetryable() throws Exception {
    try (CodebookServer server = start(null)) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      create(s, "src", 4, Metric.EUCLIDEAN, "Flat");
      StatusRuntimeException off = assertStatus(Status.Code.FAILED_PRECONDITION, null,
          () -> backup(s, "src", tmp.resolve("b")));
      assertTrue(off.getStatus().getDescription().contains("--backup-root"),
          off.getStatus().getDescription());
      assertStatus(Status.Code.FAILED_PRECONDITION, null, () -> restore(s, "c", tmp.resolve("b")));
      assertFalse(Files.exists(tmp.resolve("b")));
      ServerTestSupport.close(ch);
    }
    // A root where nothing can be created: FAILED_PRECONDITION (retrying cannot help), not
    // UNAVAILABLE, which makes clients retry.
    try (CodebookServer server = start(Path.of("/proc/self"))) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      ServerTestSupport.Stubs s = ServerTestSupport.Stubs.of(ch);
      create(s, "src2", 4, Metric.EUCLIDEAN, "Flat");
      StatusRuntimeException proc = assertStatus(Status.Code.FAILED_PRECONDITION, null,
          () -> backup(s, "src2", Path.of("/proc/self/x")));
      assertTrue(proc.getStatus().getDescription().contains("cannot create backup directory"),
          proc.getStatus().getDescription());
      ServerTestSupport.close(ch);
    }
  }

  private static List<Path> listFiles(Path dir) throws java.io.IOException {
    try (var st = Files.list(dir)) {
      return st.toList();
    }
  }
}
