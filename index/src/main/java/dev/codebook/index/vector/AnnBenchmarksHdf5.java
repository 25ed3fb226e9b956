package dev.codebook.index.vector;

import io.jhdf.HdfFile;
import io.jhdf.Superblock;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Link;
import io.jhdf.api.Node;
import io.jhdf.api.dataset.ChunkedDataset;
import io.jhdf.api.dataset.ContiguousDataset;
import io.jhdf.object.datatype.DataType;
import io.jhdf.object.datatype.FixedPoint;
import io.jhdf.object.datatype.FloatingPoint;
import io.jhdf.object.message.DataLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Reads benchmark datasets in the <a href="https://github.com/erikbern/ann-benchmarks">
 * ann-benchmarks</a> HDF5 layout.
 *
 * <p>Layout: datasets {@code train} (float [n, d], the base vectors), {@code test} (float [q, d],
 * the queries), optionally {@code neighbors} (int [q, k], exact nearest {@code train} rows per
 * query, best first) and {@code distances} (float [q, k]); root attribute {@code distance} naming
 * the metric ({@code angular}, {@code euclidean}, {@code dot}/{@code ip}; see {@link
 * Similarity#parse}). Floats may be float32 or float64 (narrowed), ids int32 or int64.
 *
 * <p>jHDF parses the metadata, but the data of a contiguous, unfiltered dataset (how h5py stores
 * ann-benchmarks files) is read straight from the file offset HDF5 reports for it into the one
 * result array: jHDF's own {@code getData()} builds a {@code float[n][d]} and would double the
 * memory of a large {@code train}. Chunked or compressed datasets are read through jHDF in slices
 * of whole chunks. Every problem, jHDF's included, surfaces as a {@link
 * MalformedVectorFileException} naming the file.
 */
public final class AnnBenchmarksHdf5 {

  /** The HDF5 format signature: at offset 0, or at 512, 1024, 2048... after a user block. */
  private static final byte[] SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

  /** jHDF's "undefined address": storage for the dataset was never allocated. */
  private static final long UNDEFINED_ADDRESS = -1L;

  private AnnBenchmarksHdf5() {}

  /** Reads the whole dataset, checking shapes, metric and neighbor ids against each other. */
  public static AnnDataset read(Path file) throws IOException {
    try (Reader r = Reader.open(file)) {
      return r.readDataset();
    } catch (RuntimeException e) {
      throw corrupt(file, e);
    }
  }

  /**
   * Reads one float matrix, such as {@code train}, without loading the rest of the file (nor
   * requiring the {@code distance} attribute).
   */
  public static FloatMatrix readVectors(Path file, String dataset) throws IOException {
    try (Reader r = Reader.open(file)) {
      Dataset d = r.dataset(dataset, true);
      return r.readFloats(d, dataset, r.floatShape(d, dataset));
    } catch (RuntimeException e) {
      throw corrupt(file, e);
    }
  }

  private static MalformedVectorFileException corrupt(Path file, RuntimeException e) {
    return new MalformedVectorFileException(file, "corrupt HDF5 file: " + e.getMessage(), e);
  }

  /** One open file: jHDF for the metadata, a channel of our own for the bulk data. */
  private static final class Reader implements AutoCloseable {
    private final Path file;
    private final FileChannel ch;
    private final long fileSize;
    private final long baseAddress;
    private final HdfFile hdf;

    private Reader(Path file, FileChannel ch, long fileSize, long baseAddress, HdfFile hdf) {
      this.file = file;
      this.ch = ch;
      this.fileSize = fileSize;
      this.baseAddress = baseAddress;
      this.hdf = hdf;
    }

    /**
     * Checks what jHDF would otherwise report obscurely (or not at all): a missing, empty, non-HDF5
     * or truncated file, then opens it.
     */
    static Reader open(Path file) throws IOException {
      FileChannel ch = ChannelReads.open(file);
      try {
        long size = ch.size();
        if (size == 0) {
          throw new MalformedVectorFileException(file, "empty file");
        }
        long at = findSignature(ch, size, file);
        if (at < 0) {
          throw new MalformedVectorFileException(
              file, "not an HDF5 file (no HDF5 signature at offset 0, 512, 1024, ...)");
        }
        Superblock sb = Superblock.readSuperblock(ch, at);
        // The library writes the end address counting any user block (h5py with userblock_size
        // does), so it is compared with the file size as is, not offset by the base address.
        long end = sb.getEndOfFileAddress();
        if (end > size) {
          throw new MalformedVectorFileException(
              file, "truncated: " + size + " bytes, but its HDF5 superblock says the file ends at"
                  + " byte " + end);
        }
        HdfFile hdf = new HdfFile(file);
        return new Reader(file, ch, size, sb.getBaseAddressByte(), hdf);
      } catch (Throwable t) {
        try {
          ch.close();
        } catch (IOException suppressed) {
          t.addSuppressed(suppressed);
        }
        throw t;
      }
    }

    @Override
    public void close() throws IOException {
      try {
        hdf.close();
      } finally {
        ch.close();
      }
    }

    AnnDataset readDataset() throws IOException {
      // Every shape is checked before any data is read, so a bad file fails fast and small.
      Similarity similarity = similarity();
      Dataset trainSet = dataset("train", true);
      Dataset testSet = dataset("test", true);
      long[] trainShape = floatShape(trainSet, "train");
      long[] testShape = floatShape(testSet, "test");
      if (trainShape[1] != testShape[1]) {
        throw malformed(AnnDataset.dimensionMismatch((int) trainShape[1], (int) testShape[1]));
      }
      Dataset neighborSet = dataset("neighbors", false);
      long[] neighborShape = null;
      if (neighborSet != null) {
        neighborShape = intShape(neighborSet, "neighbors");
        checkQueryRows("neighbors", neighborShape, testShape);
      }
      Dataset distanceSet = dataset("distances", false);
      long[] distanceShape = null;
      if (distanceSet != null) {
        distanceShape = floatShape(distanceSet, "distances");
        checkQueryRows("distances", distanceShape, testShape);
        if (neighborShape != null && distanceShape[1] != neighborShape[1]) {
          throw malformed("distances has shape " + Arrays.toString(distanceShape)
              + " but neighbors has " + Arrays.toString(neighborShape));
        }
      }

      FloatMatrix train = readFloats(trainSet, "train", trainShape);
      FloatMatrix test = readFloats(testSet, "test", testShape);
      IntMatrix neighbors = null;
      if (neighborSet != null) {
        neighbors = readInts(neighborSet, "neighbors", neighborShape);
        checkIds(neighbors, train.rows());
      }
      FloatMatrix distances =
          distanceSet == null ? null : readFloats(distanceSet, "distances", distanceShape);
      return new AnnDataset(file, train, test, neighbors, distances, similarity);
    }

    private Similarity similarity() throws MalformedVectorFileException {
      Attribute a = hdf.getAttribute("distance");
      if (a == null) {
        throw malformed("no root attribute 'distance' naming the metric"
            + " (angular, euclidean or dot)");
      }
      Object v = a.getData();
      String name = null;
      if (v instanceof String s) {
        name = s;
      } else if (v instanceof String[] arr && arr.length == 1) {
        name = arr[0];
      }
      if (name == null) {
        throw malformed("root attribute 'distance' is not a string but "
            + v.getClass().getSimpleName());
      }
      try {
        return Similarity.parse(name);
      } catch (IllegalArgumentException e) {
        throw new MalformedVectorFileException(
            file, "root attribute 'distance': " + e.getMessage(), e);
      }
    }

    /** The dataset called {@code name}, or null if it is absent and not {@code required}. */
    Dataset dataset(String name, boolean required) throws MalformedVectorFileException {
      Node n = hdf.getChild(name);
      if (n instanceof Link link) {
        n = link.getTarget();
      }
      if (n == null) {
        if (!required) {
          return null;
        }
        throw malformed("no '" + name + "' dataset (found: "
            + String.join(", ", new TreeSet<>(hdf.getChildren().keySet())) + ")");
      }
      if (!(n instanceof Dataset d)) {
        throw malformed("'" + name + "' is a " + n.getType().name().toLowerCase(Locale.ROOT)
            + ", not a dataset");
      }
      return d;
    }

    long[] floatShape(Dataset d, String name) throws MalformedVectorFileException {
      DataType t = d.getDataType();
      if (!(t instanceof FloatingPoint) || (t.getSize() != 4 && t.getSize() != 8)) {
        throw malformed("dataset '" + name + "' has dtype " + dtype(t)
            + ", expected float32 or float64");
      }
      return shape(d, name);
    }

    private long[] intShape(Dataset d, String name) throws MalformedVectorFileException {
      DataType t = d.getDataType();
      // uint64 is refused: jHDF hands it over as BigInteger, and no id needs it.
      if (!(t instanceof FixedPoint fp)
          || (t.getSize() != 4 && !(t.getSize() == 8 && fp.isSigned()))) {
        throw malformed("dataset '" + name + "' has dtype " + dtype(t)
            + ", expected int32 or int64");
      }
      return shape(d, name);
    }

    private long[] shape(Dataset d, String name) throws MalformedVectorFileException {
      long[] s = d.getDimensionsAsLong();
      if (s.length != 2) {
        throw malformed("dataset '" + name + "' has rank " + s.length + " (shape "
            + Arrays.toString(s) + "), expected 2 (rows x columns)");
      }
      if (s[1] <= 0) {
        throw malformed("dataset '" + name + "' has shape " + Arrays.toString(s)
            + ": its rows are empty");
      }
      ChannelReads.checkedLength(file, s[0], s[1]);
      return s;
    }

    private void checkQueryRows(String name, long[] shape, long[] testShape)
        throws MalformedVectorFileException {
      if (shape[0] != testShape[0]) {
        throw malformed(name + " has " + shape[0] + " rows but test has " + testShape[0]);
      }
    }

    private void checkIds(IntMatrix neighbors, int trainRows) throws MalformedVectorFileException {
      int[] ids = neighbors.data();
      for (int i = 0; i < ids.length; i++) {
        int id = ids[i];
        if (id < 0 || id >= trainRows) {
          throw malformed("neighbors[" + i / neighbors.cols() + "][" + i % neighbors.cols()
              + "] = " + id + " is out of range [0, " + trainRows + ") of train rows");
        }
      }
    }

    FloatMatrix readFloats(Dataset d, String name, long[] shape) throws IOException {
      int rows = (int) shape[0];
      int cols = (int) shape[1];
      float[] data = new float[rows * cols];
      FloatingPoint t = (FloatingPoint) d.getDataType();
      if (data.length == 0) {
        return new FloatMatrix(rows, cols, data);
      }
      if (isRaw(d)) {
        long pos = rawPosition((ContiguousDataset) d, name, (long) data.length * t.getSize());
        ChannelReads.readFloats(
            ch, pos, t.getByteOrder(), t.getSize() == 8, data, 0, data.length, file);
      } else if (d.getDataLayout() == DataLayout.COMPACT) {
        copyFloats(d.getDataFlat(), data, 0, name); // At most 64 KB by definition.
      } else {
        int step = sliceRows(d, cols);
        for (int r = 0; r < rows; r += step) {
          int n = Math.min(step, rows - r);
          copyFloats(d.getData(new long[] {r, 0}, new int[] {n, cols}), data, r * cols, name);
        }
      }
      return new FloatMatrix(rows, cols, data);
    }

    private IntMatrix readInts(Dataset d, String name, long[] shape) throws IOException {
      int rows = (int) shape[0];
      int cols = (int) shape[1];
      int[] data = new int[rows * cols];
      FixedPoint t = (FixedPoint) d.getDataType();
      if (data.length == 0) {
        return new IntMatrix(rows, cols, data);
      }
      // Unsigned int32 goes through jHDF, which widens it to long, so huge ids are not misread.
      if (isRaw(d) && t.isSigned()) {
        long pos = rawPosition((ContiguousDataset) d, name, (long) data.length * t.getSize());
        ChannelReads.readInts(
            ch, pos, t.getByteOrder(), t.getSize() == 8, data, 0, data.length, file, name);
      } else if (d.getDataLayout() == DataLayout.COMPACT) {
        copyInts(d.getDataFlat(), data, 0, name);
      } else {
        int step = sliceRows(d, cols);
        for (int r = 0; r < rows; r += step) {
          int n = Math.min(step, rows - r);
          copyInts(d.getData(new long[] {r, 0}, new int[] {n, cols}), data, r * cols, name);
        }
      }
      return new IntMatrix(rows, cols, data);
    }

    private static boolean isRaw(Dataset d) {
      return d instanceof ContiguousDataset && d.getFilters().isEmpty();
    }

    /** The absolute file offset of a contiguous dataset's data, checked to lie inside the file. */
    private long rawPosition(ContiguousDataset d, String name, long bytes)
        throws MalformedVectorFileException {
      long address = d.getDataAddress();
      if (address == UNDEFINED_ADDRESS) {
        throw malformed("dataset '" + name + "' has no data written");
      }
      long pos = baseAddress + address;
      if (address < 0 || pos > fileSize - bytes) {
        throw malformed("truncated: dataset '" + name + "' needs bytes [" + pos + ", "
            + (pos + bytes) + ") but the file has " + fileSize);
      }
      return pos;
    }

    /**
     * Rows per slice: about {@link ChannelReads#BUFFER_BYTES} of floats, rounded to whole chunks
     * so that jHDF decompresses each chunk once.
     */
    private static int sliceRows(Dataset d, int cols) {
      int rows = Math.max(1, ChannelReads.BUFFER_BYTES / Float.BYTES / cols);
      if (d instanceof ChunkedDataset c) {
        int chunkRows = Math.max(1, c.getChunkDimensions()[0]);
        rows = Math.max(chunkRows, rows / chunkRows * chunkRows);
      }
      return rows;
    }

    private void copyFloats(Object src, float[] dst, int off, String name)
        throws MalformedVectorFileException {
      switch (src) {
        case float[][] a -> {
          for (float[] row : a) {
            System.arraycopy(row, 0, dst, off, row.length);
            off += row.length;
          }
        }
        case double[][] a -> {
          for (double[] row : a) {
            for (double v : row) {
              dst[off++] = (float) v;
            }
          }
        }
        case float[] a -> System.arraycopy(a, 0, dst, off, a.length);
        case double[] a -> {
          for (double v : a) {
            dst[off++] = (float) v;
          }
        }
        default -> throw unexpectedJavaType(src, name);
      }
    }

    private void copyInts(Object src, int[] dst, int off, String name)
        throws MalformedVectorFileException {
      switch (src) {
        case int[][] a -> {
          for (int[] row : a) {
            System.arraycopy(row, 0, dst, off, row.length);
            off += row.length;
          }
        }
        case long[][] a -> {
          for (long[] row : a) {
            for (long v : row) {
              dst[off++] = ChannelReads.toInt(v, file, name);
            }
          }
        }
        case int[] a -> System.arraycopy(a, 0, dst, off, a.length);
        case long[] a -> {
          for (long v : a) {
            dst[off++] = ChannelReads.toInt(v, file, name);
          }
        }
        default -> throw unexpectedJavaType(src, name);
      }
    }

    private MalformedVectorFileException unexpectedJavaType(Object src, String name) {
      return malformed("dataset '" + name + "' decoded to an unexpected "
          + src.getClass().getSimpleName());
    }

    private MalformedVectorFileException malformed(String problem) {
      return new MalformedVectorFileException(file, problem);
    }
  }

  /** The offset of the HDF5 signature: 0, or after a user block of 512, 1024, 2048... bytes. */
  private static long findSignature(FileChannel ch, long size, Path file) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(SIGNATURE.length);
    for (long at = 0; at + SIGNATURE.length <= size; at = at == 0 ? 512 : at * 2) {
      b.clear();
      ChannelReads.readFully(ch, b, at, file);
      if (Arrays.equals(b.array(), SIGNATURE)) {
        return at;
      }
    }
    return -1;
  }

  /** The NumPy-style name of an HDF5 type, for messages. */
  private static String dtype(DataType t) {
    int bits = t.getSize() * 8;
    return switch (t) {
      case FloatingPoint f -> "float" + bits;
      case FixedPoint f -> (f.isSigned() ? "int" : "uint") + bits;
      default -> t.getClass().getSimpleName().replace("DataType", "").toLowerCase(Locale.ROOT);
    };
  }
}
