package dev.codebook.loadtest.bench;

import dev.codebook.index.search.BatchSearch;
import dev.codebook.index.SearchParams;
import dev.codebook.index.flat.FlatIndex;
import dev.codebook.index.search.SearchResults;
import dev.codebook.index.vector.AnnDataset;
import dev.codebook.index.vector.IntMatrix;

/** Exact neighbours from the Flat index, for inputs that ship without them. */
public final class GroundTruth {

  private GroundTruth() {}

  /** {@code data} with {@code neighbors} replaced by the exact top-{@code k} (k capped at n). */
  public static AnnDataset withExactNeighbors(AnnDataset data, int k) {
    int kk = Math.min(k, data.train().rows());
    FlatIndex flat = FlatIndex.of(data.train(), data.similarity());
    SearchResults res = BatchSearch.search(flat, data.test(), kk, SearchParams.DEFAULTS,
        Runtime.getRuntime().availableProcessors());
    IntMatrix truth = new IntMatrix(res.queries(), kk, res.ids().clone());
    return new AnnDataset(data.source(), data.train(), data.test(), truth, null, data.similarity());
  }
}
