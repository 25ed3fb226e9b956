package dev.codebook.index.store;

import dev.codebook.index.ivf.IvfPqCodebook;
import dev.codebook.index.ivf.IvfPqIndexFormat;
import java.io.IOException;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.util.StringHelper;

/**
 * A collection's trained quantizers, stored once per version and shared by every segment
 * encoded with them: file {@code codebook_V}. A new build writes version {@code V+1} and
 * re-encodes the segments while the old ones keep serving; segments record the version that
 * encoded them.
 *
 * <pre>
 * IndexHeader(codec "CodebookCodebook", version, random id, suffix "")
 * VInt  codebookVersion V (as in the file name)
 * codebook body, see {@link IvfPqIndexFormat#writeCodebook}: spec, similarity, dimension,
 *       OPQ rotation, coarse centroids, the pre-selector's PQ (version 1), PQ centroids
 * Footer(CRC32)
 * </pre>
 *
 * Version 0 files have no pre-selector PQ: reading one trains it, as opening did before.
 */
public final class CodebookFile {

  static final String CODEC = "CodebookCodebook";
  static final int VERSION_START = 0;
  /** The codebook body stores the coarse pre-selector's PQ (IVF format version 3). */
  static final int VERSION_PRESELECTOR = 1;
  static final int VERSION_CURRENT = VERSION_PRESELECTOR;

  private CodebookFile() {}

  public static void write(Directory dir, int version, IvfPqCodebook codebook) throws IOException {
    StoreFiles.write(dir, StoreFiles.codebook(version), CODEC, VERSION_CURRENT,
        StringHelper.randomId(), out -> {
          out.writeVInt(version);
          IvfPqIndexFormat.writeCodebook(out, codebook);
        });
  }

  public static IvfPqCodebook read(Directory dir, int version) throws IOException {
    StoreFiles.Opened f = StoreFiles.open(dir, StoreFiles.codebook(version), CODEC,
        VERSION_START, VERSION_CURRENT, null);
    try (IndexInput in = f.in()) {
      int v = in.readVInt();
      if (v != version) {
        throw new CorruptIndexException("codebook version " + v + " in the file of version "
            + version, in);
      }
      IvfPqCodebook cb = IvfPqIndexFormat.readCodebook(in, f.version() >= VERSION_PRESELECTOR
          ? IvfPqIndexFormat.codebookVersion()
          : IvfPqIndexFormat.codebookVersionWithoutPreselector());
      StoreFiles.checkEnd(in);
      return cb;
    }
  }
}
