package dev.codebook.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.codebook.api.v1.BuildIndexResponse;
import dev.codebook.api.v1.Operation;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OperationLogTest {

  static Operation op(long seq, Operation.State state, String collection) {
    Operation.Builder b = Operation.newBuilder().setName("operations/build-index-" + seq)
        .setCollection(collection).setKind(Operation.Kind.BUILD_INDEX).setState(state)
        .setDone(state != Operation.State.RUNNING);
    if (state == Operation.State.SUCCEEDED) {
      b.setBuildResult(BuildIndexResponse.newBuilder().setTrainingVectorCount(100 + seq));
    }
    return b.build();
  }

  static byte[] delimited(Operation... ops) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Operation o : ops) {
      o.writeDelimitedTo(out);
    }
    return out.toByteArray();
  }

  @Test
  void aJobRunningWhenTheServerStoppedComesBackAbortedAndFinishedOnesAsTheyEnded(
      @TempDir Path dir) throws Exception {
    Files.write(dir.resolve(OperationLog.FILE), delimited(
        op(1, Operation.State.RUNNING, "collections/a"),
        op(1, Operation.State.SUCCEEDED, "collections/a"), // the later record of job 1 wins
        op(2, Operation.State.RUNNING, "collections/b")));
    Clock clock = Clock.fixed(Instant.parse("2026-11-28T12:00:00Z"), ZoneOffset.UTC);
    try (OperationLog log = OperationLog.open(dir, clock)) {
      assertEquals(2, log.maxSequence(), "this run's jobs are numbered from 3");
      assertEquals(op(1, Operation.State.SUCCEEDED, "collections/a"),
          log.restored("operations/build-index-1"));
      Operation lost = log.restored("operations/build-index-2");
      assertEquals(Operation.State.FAILED, lost.getState());
      assertTrue(lost.getDone());
      assertEquals(com.google.rpc.Code.ABORTED_VALUE, lost.getError().getCode());
      assertTrue(lost.getError().getMessage().contains("start it again"), lost.getError().getMessage());
      assertEquals(Instant.parse("2026-11-28T12:00:00Z").getEpochSecond(),
          lost.getEndTime().getSeconds());
      assertNull(log.restored("operations/build-index-3"));
      assertEquals(List.of("operations/build-index-2", "operations/build-index-1"),
          log.restored(null, Long.MAX_VALUE, 10).stream().map(Operation::getName).toList(),
          "newest first");
      assertEquals(List.of("operations/build-index-1"),
          log.restored("collections/a", Long.MAX_VALUE, 10).stream().map(Operation::getName)
              .toList());
      assertEquals(List.of("operations/build-index-1"),
          log.restored(null, 2, 10).stream().map(Operation::getName).toList(), "below job 2");
    }
  }

  @Test
  void aTornLastRecordIsDroppedAndTheLogIsRewrittenCompact(@TempDir Path dir) throws Exception {
    byte[] whole = delimited(op(1, Operation.State.RUNNING, "collections/a"),
        op(1, Operation.State.SUCCEEDED, "collections/a"),
        op(2, Operation.State.SUCCEEDED, "collections/a"));
    byte[] torn = Arrays.copyOf(whole, whole.length - 3); // a crash in the middle of an append
    Files.write(dir.resolve(OperationLog.FILE), torn);
    try (OperationLog log = OperationLog.open(dir)) {
      assertEquals(1, log.restored().size());
      assertEquals(1, log.maxSequence());
    }
    assertEquals(delimited(op(1, Operation.State.SUCCEEDED, "collections/a")).length,
        Files.size(dir.resolve(OperationLog.FILE)), "one record per operation, torn tail gone");
    try (OperationLog log = OperationLog.open(dir)) {
      assertEquals(op(1, Operation.State.SUCCEEDED, "collections/a"),
          log.restored("operations/build-index-1"));
    }
  }

  @Test
  void anEmptyDirectoryStartsAnEmptyLog(@TempDir Path dir) throws Exception {
    try (OperationLog log = OperationLog.open(dir.resolve("data"))) {
      assertEquals(0, log.maxSequence());
      assertTrue(log.restored(null, Long.MAX_VALUE, 10).isEmpty());
    }
    assertTrue(Files.exists(dir.resolve("data").resolve(OperationLog.FILE)));
  }
}
