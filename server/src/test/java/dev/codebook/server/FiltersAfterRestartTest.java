package dev.codebook.server;

import static dev.codebook.server.FilterSearchTest.checkAll;
import static dev.codebook.server.FilterSearchTest.expr;
import static dev.codebook.server.ServerTestSupport.assertStatus;

import dev.codebook.api.v1.BackupCollectionRequest;
import dev.codebook.api.v1.RestoreCollectionRequest;
import dev.codebook.index.collection.CollectionOptions;
import dev.codebook.index.store.Durability;
import dev.codebook.server.collection.CollectionRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Filters mean the same after a restart: a collection opened at start-up, and one restored from
 * a backup and then reopened at start-up, match exactly the rows every filter kind describes,
 * and a filter whose kind can never match is still INVALID_ARGUMENT rather than an empty answer.
 */
class FiltersAfterRestartTest {

  @TempDir Path tmp;

  CodebookServer start() throws Exception {
    return CodebookServer.start(ServerTestSupport.testConfig().withBackupRoot(tmp),
        CollectionRegistry.open(tmp.resolve("data"), CollectionOptions.defaults()
            .withDurability(Durability.none())));
  }

  /** Runs {@code check} against a freshly started server on the same data directory. */
  void onServer(ThrowingConsumer check) throws Exception {
    try (CodebookServer server = start()) {
      ManagedChannel ch = ServerTestSupport.channel(server);
      try {
        check.accept(ServerTestSupport.Stubs.of(ch));
      } finally {
        ServerTestSupport.close(ch);
      }
    }
  }

  interface ThrowingConsumer {
    void accept(ServerTestSupport.Stubs s) throws Exception;
  }

  static void checkTypeErrors(ServerTestSupport.Stubs s, String name, String when) {
    assertStatus(Status.Code.INVALID_ARGUMENT, "filter.expression", () -> s.search().search(
        ServerTestSupport.searchRequest(name, FilterSearchTest.base, 0, 1, 5)
            .setFilter(expr("lang > 5")).build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "filter.expression", () -> s.search().search(
        ServerTestSupport.searchRequest(name, FilterSearchTest.base, 0, 1, 5)
            .setFilter(expr("draft = 1")).build()));
  }

  @Test
  void everyFilterKindMatchesTheSameRowsBeforeAndAfterRestartAndAfterRestore() throws Exception {
    Path backup = tmp.resolve("backups").resolve("flat");
    onServer(s -> {
      String flat = FilterSearchTest.populate(s, "flat", "Flat");
      String ivf = FilterSearchTest.populate(s, "ivf", "IVF4,PQ48x4fs,RFlat");
      ServerTestSupport.buildAndWait(s, ivf, 0);
      checkAll(s, flat, " (Flat, before restart)");
      checkAll(s, ivf, " (IVF, before restart)");
      checkTypeErrors(s, flat, "before restart");
      s.collections().backupCollection(BackupCollectionRequest.newBuilder().setName(flat)
          .setDirectory(backup.toString()).build());
    });
    onServer(s -> {
      checkAll(s, "collections/flat", " (Flat, after restart)");
      checkAll(s, "collections/ivf", " (IVF, after restart)");
      checkTypeErrors(s, "collections/flat", "after restart");
      s.collections().restoreCollection(RestoreCollectionRequest.newBuilder()
          .setName("collections/restored").setDirectory(backup.toString()).build());
      checkAll(s, "collections/restored", " (restored)");
    });
    onServer(s -> {
      checkAll(s, "collections/restored", " (restored, after restart)");
      checkTypeErrors(s, "collections/restored", "restored, after restart");
    });
  }
}
