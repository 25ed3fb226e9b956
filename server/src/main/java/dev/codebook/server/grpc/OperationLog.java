package dev.codebook.server.grpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Timestamp;
import dev.codebook.api.v1.Operation;
import dev.codebook.server.job.Job;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operations outlive the server: every job's {@link Operation} is appended to {@code
 * <dataDir>/operations.log} (length-delimited messages, fsynced) when it starts and when it ends.
 * After a restart GetOperation, ListOperations and WaitOperation still answer for the jobs of
 * earlier runs, and new jobs are numbered after them, so an operation name is never reused. A job
 * that was RUNNING when the server stopped without finishing it (a crash, a kill) comes back
 * FAILED with ABORTED: its work is gone and must be started again.
 *
 * <p>On open the log is read up to the first damaged record (a crash mid-append leaves a torn
 * tail, which is dropped) and rewritten with the last state of each of the newest {@link
 * #RETAINED} operations, so it stays small.
 */
public final class OperationLog implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OperationLog.class);

  static final String FILE = "operations.log";

  /** Operations of earlier runs kept, as the job registry keeps finished ones. */
  static final int RETAINED = dev.codebook.server.job.JobRegistry.RETAINED_FINISHED;

  private final Path file;
  private final FileChannel channel;
  /** Earlier runs' operations by name, oldest first; all final. */
  private final LinkedHashMap<String, Operation> restored;
  private final long maxSequence;

  private OperationLog(Path file, FileChannel channel, LinkedHashMap<String, Operation> restored,
      long maxSequence) {
    this.file = file;
    this.channel = channel;
    this.restored = restored;
    this.maxSequence = maxSequence;
  }

  /** Reads (or creates) the log in {@code dataDir}. */
  public static OperationLog open(Path dataDir) throws IOException {
    return open(dataDir, Clock.systemUTC());
  }

  static OperationLog open(Path dataDir, Clock clock) throws IOException {
    Files.createDirectories(dataDir);
    Path file = dataDir.resolve(FILE);
    LinkedHashMap<String, Operation> last = new LinkedHashMap<>();
    if (Files.exists(file)) {
      byte[] bytes = Files.readAllBytes(file);
      CodedInputStream in = CodedInputStream.newInstance(bytes);
      int good = 0;
      try {
        while (!in.isAtEnd()) {
          Operation op = Operation.parseFrom(in.readByteArray());
          last.put(op.getName(), op); // a later record of a job supersedes its earlier ones
          good = in.getTotalBytesRead();
        }
      } catch (IOException e) {
        LOG.warn("{}: ignoring a damaged tail after byte {} of {} ({})", file, good, bytes.length,
            e.getMessage());
      }
    }
    List<Operation> all = new ArrayList<>(last.values());
    all.sort(java.util.Comparator.comparingLong(OperationLog::sequenceOf));
    LinkedHashMap<String, Operation> restored = new LinkedHashMap<>();
    long maxSequence = all.isEmpty() ? 0 : sequenceOf(all.get(all.size() - 1)); // sorted by it
    Timestamp now = OperationGrpcService.timestamp(clock.instant());
    for (Operation op : all.subList(Math.max(0, all.size() - RETAINED), all.size())) {
      if (!op.getDone()) {
        op = op.toBuilder().setDone(true).setState(Operation.State.FAILED).setEndTime(now)
            .setError(com.google.rpc.Status.newBuilder().setCode(com.google.rpc.Code.ABORTED_VALUE)
                .setMessage("the server stopped while this operation ran; its work is lost,"
                    + " start it again"))
            .build();
      }
      restored.put(op.getName(), op);
    }
    // Compact: the last state of the retained operations, written aside and moved over.
    Path tmp = dataDir.resolve(FILE + ".tmp");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Operation op : restored.values()) {
      op.writeDelimitedTo(out);
    }
    try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      writeFully(c, out.toByteArray());
      c.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND);
    return new OperationLog(file, channel, restored, maxSequence);
  }

  /** The job number in a name like {@code operations/build-index-12}; 0 if there is none. */
  static long sequenceOf(Operation op) {
    String name = op.getName();
    int dash = name.lastIndexOf('-');
    try {
      return dash < 0 ? 0 : Long.parseLong(name.substring(dash + 1));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** The largest job number any run used: this run's jobs are numbered after it. */
  public long maxSequence() {
    return maxSequence;
  }

  /** An earlier run's operation of that name, or null. */
  public Operation restored(String name) {
    return restored.get(name);
  }

  /**
   * Earlier runs' operations numbered below {@code before}, of {@code collection} unless it is
   * null, newest first, at most {@code limit}.
   */
  public List<Operation> restored(String collection, long before, int limit) {
    List<Operation> all = new ArrayList<>(restored.values());
    List<Operation> out = new ArrayList<>();
    for (int i = all.size() - 1; i >= 0 && out.size() < limit; i--) {
      Operation op = all.get(i);
      if (sequenceOf(op) < before
          && (collection == null || op.getCollection().equals(collection))) {
        out.add(op);
      }
    }
    return out;
  }

  /**
   * Records a job's state (at its start and at its end). A failure to write is logged, not
   * thrown: the job itself is unaffected, only its record after a restart.
   */
  public synchronized void append(Job job) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      OperationGrpcService.toProto(job).writeDelimitedTo(out);
      writeFully(channel, out.toByteArray());
      channel.force(false);
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("cannot record {} in {}: {}", job, file, e.getMessage());
    }
  }

  private static void writeFully(FileChannel c, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      c.write(b);
    }
  }

  /** Restored operations, for tests. */
  Map<String, Operation> restored() {
    return Map.copyOf(restored);
  }

  @Override
  public synchronized void close() {
    try {
      channel.close();
    } catch (IOException e) {
      LOG.warn("cannot close {}: {}", file, e.getMessage());
    }
  }
}
