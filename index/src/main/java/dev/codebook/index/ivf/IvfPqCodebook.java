package dev.codebook.index.ivf;

import dev.codebook.index.IndexSpec;
import dev.codebook.index.quant.OpqRotation;
import dev.codebook.index.quant.ProductQuantizer;
import dev.codebook.index.vector.Similarity;
import java.util.Objects;

/**
 * The trained quantizers of an {@link IvfPqIndex} without its inverted lists: what a durable
 * collection stores once per codebook version and shares between its segments. {@link #newIndex}
 * builds an empty index over them, to encode vectors into or to restore saved lists into.
 *
 * @param spec the factory string the quantizers were trained for
 * @param rotation the OPQ rotation, or null
 * @param coarse the coarse quantizer, or null without IVF
 * @param pq the product quantizer
 */
public record IvfPqCodebook(IndexSpec spec, Similarity similarity, OpqRotation rotation,
    CoarseQuantizer coarse, ProductQuantizer pq) {

  public IvfPqCodebook {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(similarity, "similarity");
    Objects.requireNonNull(pq, "pq");
  }

  /** The quantizers of a trained index (its lists and raw vectors are not part of it). */
  public static IvfPqCodebook of(IvfPqIndex index) {
    return new IvfPqCodebook(index.spec(), index.similarity(), index.rotation(), index.coarse(),
        index.pq());
  }

  public int dimension() {
    return pq.dimension();
  }

  /**
   * An empty index over these quantizers.
   *
   * @param raw the full vectors for re-ranking, required with {@code RFlat}, else null
   */
  public IvfPqIndex newIndex(RawVectors raw) {
    return new IvfPqIndex(spec, similarity, coarse, pq, raw, rotation);
  }

  /** The raw vector store of an index built by {@link dev.codebook.index.IndexFactory}, or null. */
  public static RawVectors rawOf(IvfPqIndex index) {
    return index.raw();
  }
}
