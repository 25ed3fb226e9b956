/**
 * Inverted-file indexes with product-quantized codes (IVF-PQ), split as FAISS splits {@code
 * IndexIVF}:
 *
 * <ul>
 *   <li>{@link dev.codebook.index.ivf.CoarseQuantizer}: the {@code nlist} centroids, assignment
 *       and the probe of a query's best lists, with its {@link
 *       dev.codebook.index.ivf.CentroidPreselector} from 1,024 lists (a fast-scan of the
 *       centroids whose PQ is trained at build time and stored with them);
 *   <li>{@link dev.codebook.index.ivf.InvertedLists} ({@link
 *       dev.codebook.index.ivf.HeapInvertedLists}): per list, ordinals and code blocks;
 *   <li>{@link dev.codebook.index.ivf.ListScanner}: one query's scan of lists into its top-k
 *       under an accept filter, one subclass per code family ({@link
 *       dev.codebook.index.ivf.FastScanListScanner} for 4-bit codes, {@link
 *       dev.codebook.index.ivf.Pq8ListScanner} for 8-bit codes);
 *   <li>{@link dev.codebook.index.ivf.Reranker} over {@link dev.codebook.index.ivf.RawVectors}
 *       ({@link dev.codebook.index.ivf.HeapRawVectors}, {@link
 *       dev.codebook.index.ivf.MappedRawVectors}): exact re-scoring for {@code RFlat};
 *   <li>{@link dev.codebook.index.ivf.IvfPqIndex}: encodes vectors into the lists and orders a
 *       search (probe, scan query by query or list by list, re-rank), and {@link
 *       dev.codebook.index.ivf.IvfPqCodebook}, its trained quantizers without lists.
 * </ul>
 *
 * <p>A new code family plugs in as a quantizer, a code layout ({@link dev.codebook.index.fastscan})
 * and a scanner; the coarse quantizer, lists, filters, re-ranking and storage are shared.
 *
 * <h2>File formats</h2>
 *
 * <p>{@link dev.codebook.index.ivf.IvfPqIndexFormat} documents the single-file index ({@code
 * CodebookIvfPq}, versions 0 to 3: OPQ from 1, blocked 8-bit codes from 2, the pre-selector's PQ
 * from 3), the codebook body a collection's codebook file embeds, and the list bodies of a
 * segment. Every earlier version still opens; a file from before version 3 with 1,024 lists or
 * more trains its pre-selector on open, with the seed the build uses, so it searches as before
 * (golden files in the tests).
 *
 * <h2>Threading</h2>
 *
 * <p>Indexes, coarse quantizers, pre-selectors and re-rankers are immutable once built or loaded
 * (apart from {@code IvfPqIndex.add}, which must not run with searches) and are shared by every
 * search. A search's buffers ({@code IvfScratch}: scanners, tables, probe heaps) belong to the
 * caller's {@link dev.codebook.index.SearchContext}, one thread at a time; between contexts an
 * index keeps a few idle ones in a bounded pool. Nothing is kept per thread.
 */
package dev.codebook.index.ivf;
