package dev.codebook.index.store;

import dev.codebook.index.IndexSpec;
import dev.codebook.index.vector.Similarity;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.util.StringHelper;

/**
 * A commit point of a collection, like Lucene's {@code segments_N}: the schema, the live
 * segments with their deletion generations, the codebook version and the write-ahead-log
 * checkpoint. File {@code manifest_N}:
 *
 * <pre>
 * IndexHeader(codec "CodebookManifest", version, random id, suffix "")
 * VLong generation N (as in the file name)
 * VInt  dimension; Byte similarity (ordinal); String spec
 * VLong createTime, buildTime (epoch ms; buildTime 0 = never built)
 * VInt  codebookVersion (0 = untrained)
 * VLong walCheckpoint   replay log generations at or after this
 * VLong nextSegment     the next segment number to hand out
 * VInt  segmentCount
 * per segment: VLong number; Byte[16] id; VInt size; VInt codebookVersion (0 = no codes);
 *              VLong delGen (0 = no deletions); VInt delCount
 * Footer(CRC32)
 * </pre>
 *
 * <p>Commit: written as {@code pending_manifest_N}, fsynced, renamed to {@code manifest_N}, and
 * the directory fsynced, so a crash leaves either the old or the new commit, never half of one.
 * Opening reads the newest {@code manifest_N}. If that one fails its checksum the collection
 * does not open (DATA_LOSS): falling back to an older commit would silently drop acknowledged
 * writes whose log was deleted after the newer commit.
 *
 * @param segments in order of creation (older first)
 */
public record Manifest(long generation, int dimension, Similarity similarity, IndexSpec spec,
    long createTime, long buildTime, int codebookVersion, long walCheckpoint, long nextSegment,
    List<SegmentInfo> segments) {

  static final String CODEC = "CodebookManifest";
  static final int VERSION_CURRENT = 0;

  public Manifest {
    segments = List.copyOf(segments);
  }

  /** One segment as committed. */
  public record SegmentInfo(long number, byte[] id, int size, int codebookVersion, long delGen,
      int delCount) {}

  Manifest with(long gen, long buildTime, int codebookVersion, long walCheckpoint,
      long nextSegment, List<SegmentInfo> segments) {
    return new Manifest(gen, dimension, similarity, spec, createTime, buildTime, codebookVersion,
        walCheckpoint, nextSegment, segments);
  }

  /** Writes and publishes this commit atomically (see the class comment). */
  public void commit(Directory dir) throws IOException {
    String pending = StoreFiles.pendingManifest(generation);
    StoreFiles.deleteQuietly(dir, pending);
    StoreFiles.write(dir, pending, CODEC, VERSION_CURRENT, StringHelper.randomId(), out -> {
      out.writeVLong(generation);
      out.writeVInt(dimension);
      out.writeByte((byte) similarity.ordinal());
      out.writeString(spec.toString());
      out.writeVLong(createTime);
      out.writeVLong(buildTime);
      out.writeVInt(codebookVersion);
      out.writeVLong(walCheckpoint);
      out.writeVLong(nextSegment);
      out.writeVInt(segments.size());
      for (SegmentInfo s : segments) {
        out.writeVLong(s.number());
        out.writeBytes(s.id(), 0, s.id().length);
        out.writeVInt(s.size());
        out.writeVInt(s.codebookVersion());
        out.writeVLong(s.delGen());
        out.writeVInt(s.delCount());
      }
    });
    dir.rename(pending, StoreFiles.manifest(generation));
    dir.syncMetaData();
  }

  /** The newest committed manifest in {@code dir}, or null if there is none. */
  public static Manifest readLatest(Directory dir) throws IOException {
    long newest = -1;
    for (String name : dir.listAll()) {
      newest = Math.max(newest, StoreFiles.manifestGeneration(name));
    }
    return newest < 0 ? null : read(dir, newest);
  }

  static Manifest read(Directory dir, long gen) throws IOException {
    StoreFiles.Opened f = StoreFiles.open(dir, StoreFiles.manifest(gen), CODEC, 0,
        VERSION_CURRENT, null);
    try (IndexInput in = f.in()) {
      long g = in.readVLong();
      if (g != gen) {
        throw new CorruptIndexException("generation " + g + " in manifest_" + gen, in);
      }
      int dim = in.readVInt();
      if (dim <= 0 || dim > 1 << 16) {
        throw new CorruptIndexException("dimension " + dim, in);
      }
      int sim = in.readByte();
      if (sim < 0 || sim >= Similarity.values().length) {
        throw new CorruptIndexException("similarity " + sim, in);
      }
      IndexSpec spec;
      try {
        spec = IndexSpec.parse(in.readString());
      } catch (IllegalArgumentException e) {
        throw new CorruptIndexException("bad index spec: " + e.getMessage(), in);
      }
      long create = in.readVLong();
      long build = in.readVLong();
      int cbv = in.readVInt();
      long checkpoint = in.readVLong();
      long next = in.readVLong();
      int n = StoreFiles.checkCount(in, in.readVInt(), 1 << 20, "segment count");
      List<SegmentInfo> segs = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        long num = in.readVLong();
        byte[] id = new byte[StringHelper.ID_LENGTH];
        in.readBytes(id, 0, id.length);
        int size = StoreFiles.checkCount(in, in.readVInt(), Integer.MAX_VALUE, "segment size");
        int scbv = in.readVInt();
        long delGen = in.readVLong();
        int delCount = StoreFiles.checkCount(in, in.readVInt(), size, "deleted count");
        if (num >= next || scbv > cbv || scbv < 0) {
          throw new CorruptIndexException("segment " + num + " (codebook " + scbv
              + ") does not fit next segment " + next + " / codebook " + cbv, in);
        }
        segs.add(new SegmentInfo(num, id, size, scbv, delGen, delCount));
      }
      StoreFiles.checkEnd(in);
      return new Manifest(gen, dim, Similarity.values()[sim], spec, create, build, cbv,
          checkpoint, next, segs);
    }
  }
}
