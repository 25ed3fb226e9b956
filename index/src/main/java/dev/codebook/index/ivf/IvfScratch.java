package dev.codebook.index.ivf;

import dev.codebook.index.fastscan.FastScanLayout;
import dev.codebook.index.search.TopK;
import java.util.Arrays;

/**
 * The buffers of an {@link IvfPqIndex} search, made for one (nprobe, candidates, k) shape and
 * reused across the queries and calls of the {@link dev.codebook.index.SearchContext} that holds
 * it: nothing is allocated per code or per query. Owned by one context (one thread) at a time;
 * the index keeps a few idle ones between contexts.
 */
final class IvfScratch {

  final IvfPqIndex owner;
  final int nprobe;
  final int candidates;
  final int k;
  /** The scanner of the query being scanned, one at a time. */
  final ListScanner one;
  final Reranker.Scratch rerank; // null without RFlat
  final float[] residualQuery;
  /** The 64 byte sums of the block just filtered. */
  final short[] sums = new short[FastScanLayout.BLOCK];
  final int[] probeIds;
  final float[] probeScores;
  final TopK[] probeHeaps = new TopK[IvfPqIndex.PROBE_BATCH];
  final CoarseQuantizer.ProbeScratch probe; // null without IVF
  /** The list-major scan's scanners, probes and (query, probe) pairs grouped by list. */
  ListScanner[] batch = new ListScanner[0];
  int[] batchProbeIds = new int[0];
  float[] batchProbeScores = new float[0];
  int[] pairs = new int[0];
  int[] listEnds;
  /** Codes scanned and candidates re-ranked by the current call, counted into its context. */
  long scanned;
  long exact;

  IvfScratch(IvfPqIndex owner, int nprobe, int candidates, int k) {
    this.owner = owner;
    this.nprobe = nprobe;
    this.candidates = candidates;
    this.k = k;
    for (int i = 0; i < probeHeaps.length; i++) {
      probeHeaps[i] = new TopK(nprobe);
    }
    probeIds = new int[nprobe];
    probeScores = new float[nprobe];
    one = owner.newScanner(candidates);
    rerank = owner.reranker() == null ? null
        : new Reranker.Scratch(candidates, k, owner.dimension());
    residualQuery = new float[owner.dimension()];
    probe = owner.coarse() == null ? null : owner.coarse().newProbeScratch();
  }

  /** Whether these buffers serve a search of this shape on {@code index}. */
  boolean fits(IvfPqIndex index, int nprobe, int candidates, int k) {
    return owner == index && this.nprobe == nprobe && this.candidates == candidates
        && this.k == k;
  }

  /** Scanners for {@code n} queries and room for their {@code n * nprobe} probes. */
  ListScanner[] batch(int n) {
    if (batch.length < n) {
      int old = batch.length;
      batch = Arrays.copyOf(batch, n);
      for (int i = old; i < n; i++) {
        batch[i] = owner.newScanner(candidates);
      }
    }
    int pairCount = Math.multiplyExact(n, nprobe);
    if (pairs.length < pairCount) {
      batchProbeIds = new int[pairCount];
      batchProbeScores = new float[pairCount];
      pairs = new int[pairCount];
    }
    if (listEnds == null) {
      listEnds = new int[owner.nlist()];
    }
    return batch;
  }
}
