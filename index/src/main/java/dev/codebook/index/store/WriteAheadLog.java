package dev.codebook.index.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.zip.CRC32;
import org.apache.lucene.codecs.CodecUtil;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.store.ByteArrayDataInput;
import org.apache.lucene.store.ByteBuffersDataOutput;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.util.StringHelper;

/**
 * The write-ahead log of a collection: every upsert and delete is appended here before it is
 * applied, and replayed on start-up for what no committed segment holds yet.
 *
 * <p>File {@code wal_G.log} (Lucene data types; Int little-endian):
 *
 * <pre>
 * IndexHeader(codec "CodebookWal", version, random 16-byte id, suffix "")
 * Int    dimension
 * record*:
 *   Int  length         bytes of payload, 1 to 2^30
 *   Int  crc            CRC32 of payload
 *   payload:
 *     Byte  type        1 upsert, 2 delete
 *     VLong seq         increasing across generations
 *     upsert: VInt n; n x (String id; Float[dimension] values; VInt len; Byte[len] attributes)
 *     delete: VInt n; n x String id
 * </pre>
 *
 * There is no footer: the file is only ever appended to, and each record carries its own
 * checksum. A crash can leave a torn last record; replay detects it by length or checksum, drops
 * it (its request was never acknowledged, as acknowledgement waits for the sync that covers it)
 * and truncates the file there, so nothing before it is lost. A bad record in a log that is not
 * the newest cannot be a torn write and fails with {@link CorruptIndexException}.
 *
 * <p>Generations: the log is rolled to {@code G+1} when the mutable buffer is frozen for a
 * flush; once the manifest records a checkpoint past {@code G}, generation {@code G} is deleted.
 *
 * <p>Appends are serialized by the caller's write lock (and this object's monitor); waiting for
 * durability ({@link #awaitDurable}) happens outside it, so with {@link Durability.Mode#GROUP}
 * and {@link Durability.Mode#FSYNC} concurrent writers share one {@code fsync}.
 */
public final class WriteAheadLog implements Closeable {

  static final String CODEC = "CodebookWal";
  static final int VERSION_START = 0;
  static final int VERSION_CURRENT = VERSION_START;
  static final int MAX_RECORD = 1 << 30;
  static final byte UPSERT = 1;
  static final byte DELETE = 2;

  private final Directory dir;
  private final Path path;
  private final int dim;
  private final Durability durability;
  private final ReentrantLock syncLock = new ReentrantLock();
  private final Condition syncedCond = syncLock.newCondition();
  private final Thread syncer;

  // Guarded by this (appends) and, for the channel swap, syncLock too.
  private FileChannel channel;
  private long generation;
  private long seq;
  private ByteBuffer frame = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

  private volatile long appended;
  private volatile long synced; // written under syncLock
  private volatile long syncs;
  private IOException syncFailure; // guarded by syncLock
  private volatile boolean closed;

  private WriteAheadLog(Directory dir, Path path, int dim, Durability durability, long generation,
      long seq) throws IOException {
    this.dir = dir;
    this.path = path;
    this.dim = dim;
    this.durability = durability;
    this.seq = seq;
    this.appended = seq;
    this.synced = seq;
    this.channel = create(generation);
    this.generation = generation;
    if (durability.mode() == Durability.Mode.GROUP) {
      syncer = Thread.ofPlatform().daemon().name("wal-sync-" + path.getFileName())
          .start(this::syncLoop);
    } else {
      syncer = null;
    }
  }

  /**
   * Starts a new log generation {@code generation} (no such file may exist) for records after
   * {@code lastSeq}.
   */
  public static WriteAheadLog create(Directory dir, Path path, int dim, Durability durability,
      long generation, long lastSeq) throws IOException {
    return new WriteAheadLog(dir, path, dim, durability, generation, lastSeq);
  }

  private FileChannel create(long gen) throws IOException {
    ByteBuffersDataOutput header = new ByteBuffersDataOutput();
    CodecUtil.writeIndexHeader(header, CODEC, VERSION_CURRENT, StringHelper.randomId(), "");
    header.writeInt(dim);
    Path file = path.resolve(StoreFiles.wal(gen));
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE);
    try {
      ByteBuffer b = ByteBuffer.wrap(header.toArrayCopy());
      while (b.hasRemaining()) {
        ch.write(b);
      }
      if (durability.mode() != Durability.Mode.NONE) {
        ch.force(true);
        dir.syncMetaData();
      }
      return ch;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  public synchronized long generation() {
    return generation;
  }

  /** Sequence number of the last appended record. */
  public long lastSeq() {
    return appended;
  }

  public Durability durability() {
    return durability;
  }

  /**
   * Appends a record (written to the operating system, not yet synced).
   *
   * @return its sequence number, for {@link #awaitDurable}
   */
  public synchronized long append(WalRecord record) throws IOException {
    ensureOpen();
    ByteBuffersDataOutput payload = new ByteBuffersDataOutput();
    long s = seq + 1;
    encode(record, s, payload);
    long len = payload.size();
    if (len > MAX_RECORD) {
      throw new IllegalArgumentException("a request of " + len + " bytes exceeds the log's "
          + MAX_RECORD + "-byte record limit");
    }
    byte[] bytes = payload.toArrayCopy();
    CRC32 crc = new CRC32();
    crc.update(bytes);
    int total = 8 + bytes.length;
    if (frame.capacity() < total) {
      frame = ByteBuffer.allocate(Math.max(total, frame.capacity() * 2))
          .order(ByteOrder.LITTLE_ENDIAN);
    }
    frame.clear();
    frame.putInt(bytes.length).putInt((int) crc.getValue()).put(bytes).flip();
    while (frame.hasRemaining()) {
      channel.write(frame);
    }
    seq = s;
    appended = s;
    if (syncer != null) {
      LockSupport.unpark(syncer);
    }
    return s;
  }

  private void encode(WalRecord record, long s, ByteBuffersDataOutput out) throws IOException {
    switch (record) {
      case WalRecord.Upsert u -> {
        out.writeByte(UPSERT);
        out.writeVLong(s);
        int n = u.ids().size();
        if (u.values().length != (long) n * dim || u.attributes().size() != n) {
          throw new IllegalArgumentException(n + " ids, " + u.attributes().size()
              + " attribute blobs and " + u.values().length + " floats at dimension " + dim);
        }
        out.writeVInt(n);
        ByteBuffer row = ByteBuffer.allocate(4 * dim).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          out.writeString(u.ids().get(i));
          row.clear();
          row.asFloatBuffer().put(u.values(), i * dim, dim);
          out.writeBytes(row.array(), 0, 4 * dim);
          byte[] a = u.attributes().get(i);
          out.writeVInt(a.length);
          out.writeBytes(a, 0, a.length);
        }
      }
      case WalRecord.Delete d -> {
        out.writeByte(DELETE);
        out.writeVLong(s);
        out.writeVInt(d.ids().size());
        for (String id : d.ids()) {
          out.writeString(id);
        }
      }
    }
  }

  /**
   * Returns once record {@code seq} is as durable as the policy promises: synced for FSYNC and
   * GROUP, written for NONE.
   *
   * @throws IOException if the sync failed (the write must not be acknowledged)
   */
  public void awaitDurable(long seq) throws IOException {
    switch (durability.mode()) {
      case NONE -> {
        return;
      }
      case FSYNC -> syncTo(seq);
      case GROUP -> {
        syncLock.lock();
        try {
          while (synced < seq) {
            if (syncFailure != null) {
              throw new IOException("write-ahead log sync failed", syncFailure);
            }
            if (closed) {
              throw new IOException("write-ahead log closed before the write was synced");
            }
            syncedCond.await(100, TimeUnit.MILLISECONDS);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted waiting for the write-ahead log sync", e);
        } finally {
          syncLock.unlock();
        }
      }
    }
  }

  /** Syncs everything appended so far, whatever the policy (before a commit). */
  public void sync() throws IOException {
    syncTo(appended);
  }

  private void syncTo(long target) throws IOException {
    syncLock.lock();
    try {
      if (synced >= target) {
        return;
      }
      if (syncFailure != null) {
        throw new IOException("write-ahead log sync failed", syncFailure);
      }
      long upTo = appended;
      try {
        channel.force(false);
      } catch (IOException e) {
        syncFailure = e;
        syncedCond.signalAll();
        throw e;
      }
      synced = upTo;
      syncs++;
      syncedCond.signalAll();
    } finally {
      syncLock.unlock();
    }
  }

  /** Fsyncs of records so far (for tests and stats: group commit makes this far below appends). */
  public long syncCount() {
    return syncs;
  }

  /**
   * Group commit: at most one fsync per interval. A write arriving after a quiet spell is synced
   * at once (no added latency at low rates); writes arriving while the last fsync is younger than
   * the interval wait for the next tick and share it.
   */
  private void syncLoop() {
    long intervalNanos = durability.interval().toNanos();
    long lastSync = System.nanoTime() - intervalNanos;
    while (!closed) {
      try {
        if (synced >= appended) {
          // Woken by append; the timeout only bounds a missed wake-up.
          LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100));
          continue;
        }
        long wait = lastSync + intervalNanos - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        lastSync = System.nanoTime();
        syncTo(appended);
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        // Recorded in syncFailure; waiters fail. Keep the thread alive for close().
      }
    }
  }

  /**
   * Syncs and closes the current generation and starts the next.
   *
   * @return the new generation: every record appended before this call is in an older one
   */
  public synchronized long roll() throws IOException {
    ensureOpen();
    syncLock.lock();
    try {
      channel.force(false);
      synced = appended;
      syncedCond.signalAll();
      FileChannel next = create(generation + 1);
      channel.close();
      channel = next;
      generation++;
      return generation;
    } finally {
      syncLock.unlock();
    }
  }

  /** Bytes written to the current generation so far (a record boundary, under the caller's lock). */
  public synchronized long position() throws IOException {
    return channel.position();
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("write-ahead log is closed");
    }
  }

  @Override
  public void close() throws IOException {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      syncLock.lock();
      try {
        try {
          if (channel.isOpen()) {
            channel.force(false);
            synced = appended;
          }
        } finally {
          syncedCond.signalAll();
          channel.close();
        }
      } finally {
        syncLock.unlock();
      }
    }
    if (syncer != null) {
      syncer.interrupt();
      try {
        syncer.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Replay

  /** What replay found. */
  public record Replayed(long lastGeneration, long lastSeq, int records, long truncatedBytes) {}

  /**
   * Replays every log generation at or after {@code fromGeneration}, oldest first, handing each
   * complete record to {@code apply}. A torn or corrupt tail of the newest generation is dropped
   * and the file truncated there.
   *
   * @throws CorruptIndexException naming the file for a bad record in an older generation, a bad
   *     header or a wrong dimension
   */
  public static Replayed replay(Directory dir, Path path, long fromGeneration, int dim,
      Consumer<WalRecord> apply) throws IOException {
    List<Long> gens = new ArrayList<>();
    for (String name : dir.listAll()) {
      long g = StoreFiles.walGeneration(name);
      if (g >= fromGeneration) {
        gens.add(g);
      }
    }
    gens.sort(null);
    long lastSeq = 0;
    int records = 0;
    long truncated = 0;
    long lastGen = fromGeneration - 1;
    for (int i = 0; i < gens.size(); i++) {
      long g = gens.get(i);
      boolean newest = i == gens.size() - 1;
      String name = StoreFiles.wal(g);
      long good;
      long length;
      try (IndexInput in = dir.openInput(name, IOContext.READONCE)) {
        length = in.length();
        int headerLen = CodecUtil.indexHeaderLength(CODEC, "") + 4;
        if (length < headerLen) {
          if (!newest) {
            throw new CorruptIndexException("log header truncated at " + length + " bytes", in);
          }
          // Crashed while creating it: nothing was ever acknowledged from it.
          good = 0;
        } else {
          CodecUtil.checkHeader(in, CODEC, VERSION_START, VERSION_CURRENT);
          in.skipBytes(StringHelper.ID_LENGTH);
          CodecUtil.checkIndexHeaderSuffix(in, "");
          int fileDim = in.readInt();
          if (fileDim != dim) {
            throw new CorruptIndexException("log dimension " + fileDim + ", collection " + dim,
                in);
          }
          good = in.getFilePointer();
          CRC32 crc = new CRC32();
          byte[] buf = new byte[256];
          while (good < length) {
            String torn = null;
            long remaining = length - good;
            int len = 0;
            int expectCrc = 0;
            if (remaining < 8) {
              torn = "a " + remaining + "-byte partial frame";
            } else {
              len = in.readInt();
              expectCrc = in.readInt();
              if (len <= 0 || len > MAX_RECORD || len > remaining - 8) {
                torn = "record length " + len + " with " + (remaining - 8) + " bytes left";
              }
            }
            if (torn == null) {
              if (buf.length < len) {
                buf = new byte[Math.max(len, buf.length * 2)];
              }
              in.readBytes(buf, 0, len);
              crc.reset();
              crc.update(buf, 0, len);
              if ((int) crc.getValue() != expectCrc) {
                torn = "checksum mismatch";
              }
            }
            if (torn != null) {
              if (!newest) {
                throw new CorruptIndexException("bad record at offset " + good + " (" + torn
                    + ") in a log that is not the newest", in);
              }
              break;
            }
            WalRecord r = decode(buf, len, dim, in);
            long s = recordSeq(buf);
            if (s <= lastSeq) {
              throw new CorruptIndexException("record sequence " + s + " after " + lastSeq, in);
            }
            lastSeq = s;
            apply.accept(r);
            records++;
            good += 8 + len;
          }
        }
      }
      if (good < length) {
        truncated += length - good;
        Path file = path.resolve(name);
        if (good == 0) {
          dir.deleteFile(name);
        } else {
          try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(good);
            ch.force(true);
          }
        }
      }
      lastGen = g;
    }
    return new Replayed(lastGen, lastSeq, records, truncated);
  }

  private static long recordSeq(byte[] buf) {
    ByteArrayDataInput in = new ByteArrayDataInput(buf, 1, buf.length - 1);
    return in.readVLong();
  }

  private static WalRecord decode(byte[] buf, int len, int dim, IndexInput file)
      throws IOException {
    try {
      ByteArrayDataInput in = new ByteArrayDataInput(buf, 0, len);
      byte type = in.readByte();
      in.readVLong();
      int n = in.readVInt();
      if (n < 0 || n > len) {
        throw new CorruptIndexException("record of " + n + " entries in " + len + " bytes", file);
      }
      List<String> ids = new ArrayList<>(n);
      if (type == DELETE) {
        for (int i = 0; i < n; i++) {
          ids.add(in.readString());
        }
        return new WalRecord.Delete(ids);
      }
      if (type != UPSERT) {
        throw new CorruptIndexException("unknown record type " + type, file);
      }
      float[] values = new float[Math.multiplyExact(n, dim)];
      List<byte[]> attrs = new ArrayList<>(n);
      ByteBuffer row = ByteBuffer.allocate(4 * dim).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        ids.add(in.readString());
        in.readBytes(row.array(), 0, 4 * dim);
        row.clear();
        row.asFloatBuffer().get(values, i * dim, dim);
        int a = in.readVInt();
        if (a < 0 || a > len - in.getPosition()) {
          throw new CorruptIndexException("attributes of " + a + " bytes past the record", file);
        }
        byte[] attr = new byte[a];
        in.readBytes(attr, 0, a);
        attrs.add(attr);
      }
      if (in.getPosition() != len) {
        throw new CorruptIndexException("record has " + (len - in.getPosition())
            + " trailing bytes", file);
      }
      return new WalRecord.Upsert(ids, values, attrs);
    } catch (ArrayIndexOutOfBoundsException | IllegalArgumentException e) {
      throw new CorruptIndexException("malformed record: " + e, file);
    }
  }

  @Override
  public String toString() {
    return "WriteAheadLog(" + path + ", gen " + generation + ", " + durability + ")";
  }

  static byte[] copy(byte[] b) {
    return Arrays.copyOf(b, b.length);
  }
}
