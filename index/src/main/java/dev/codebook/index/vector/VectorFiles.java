package dev.codebook.index.vector;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Reads vectors from whichever supported format a file is in, chosen by its extension, so tools
 * can take any dataset path a user gives them.
 */
public final class VectorFiles {

  /** The extensions {@link #readVectors} accepts, for messages. */
  public static final String SUPPORTED = ".fvecs, .bvecs, .npy, .hdf5, .h5";

  private VectorFiles() {}

  /**
   * Reads the vectors of {@code file}: all of a {@code .fvecs}, {@code .bvecs} or {@code .npy}
   * file, or the {@code train} dataset of an ann-benchmarks {@code .hdf5}/{@code .h5} file.
   */
  public static FloatMatrix readVectors(Path file) throws IOException {
    String extension = extension(file);
    return switch (extension) {
      case "fvecs" -> TexmexFiles.readFvecs(file);
      case "bvecs" -> TexmexFiles.readBvecs(file);
      case "npy" -> NpyFiles.readFloatMatrix(file);
      case "hdf5", "h5" -> AnnBenchmarksHdf5.readVectors(file, "train");
      default -> throw new MalformedVectorFileException(
          file,
          (extension.isEmpty() ? "no file extension" : "unsupported extension '." + extension + "'")
              + ": expected one of " + SUPPORTED);
    };
  }

  /** Reads an ann-benchmarks {@code .hdf5}/{@code .h5} file: vectors, queries and ground truth. */
  public static AnnDataset readDataset(Path file) throws IOException {
    return switch (extension(file)) {
      case "hdf5", "h5" -> AnnBenchmarksHdf5.read(file);
      default -> throw new MalformedVectorFileException(
          file, "not a benchmark dataset: expected an ann-benchmarks .hdf5 or .h5 file");
    };
  }

  private static String extension(Path file) {
    Path name = file.getFileName();
    String s = name == null ? "" : name.toString();
    int dot = s.lastIndexOf('.');
    return dot < 0 ? "" : s.substring(dot + 1).toLowerCase(Locale.ROOT);
  }

  /**
   * A dataset from separate files, as TEXMEX sets ship: base vectors, queries and (optionally,
   * {@code .ivecs}) exact neighbours per query.
   *
   * @throws MalformedVectorFileException naming the queries file when dimensions differ, or the
   *     truth file when its rows do not match the queries or its ids are out of range
   */
  public static AnnDataset readDataset(Path train, Path test, Path truth, Similarity similarity)
      throws IOException {
    FloatMatrix base = readVectors(train);
    FloatMatrix queries = readVectors(test);
    if (queries.dim() != base.dim()) {
      throw new MalformedVectorFileException(test, "vector dimensions differ: train has "
          + base.dim() + ", test has " + queries.dim());
    }
    IntMatrix neighbors = null;
    if (truth != null) {
      neighbors = TexmexFiles.readIvecs(truth);
      if (neighbors.rows() != queries.rows()) {
        throw new MalformedVectorFileException(truth, "has " + neighbors.rows()
            + " rows of neighbours for " + queries.rows() + " queries");
      }
      for (int v : neighbors.data()) {
        if (v < 0 || v >= base.rows()) {
          throw new MalformedVectorFileException(truth,
              "neighbour id " + v + " out of range [0, " + base.rows() + ")");
        }
      }
    }
    return new AnnDataset(train, base, queries, neighbors, null, similarity);
  }
}
