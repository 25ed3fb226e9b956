package dev.codebook.index.collection;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Which segments to rewrite (Lucene's {@code MergePolicy}): every segment with at least {@link
 * CollectionOptions#mergeDeletedRatio} of its rows deleted or encoded with an older codebook,
 * and, while more than {@link CollectionOptions#maxSegments} others remain, the smallest (by
 * live rows, at least two). Stateless; callers pass a consistent view.
 */
final class MergePolicy {

  private final int maxSegments;
  private final double mergeDeletedRatio;

  MergePolicy(int maxSegments, double mergeDeletedRatio) {
    this.maxSegments = maxSegments;
    this.mergeDeletedRatio = mergeDeletedRatio;
  }

  /**
   * The segments of {@code segments} to merge into one, empty for none.
   *
   * @param codebookVersion the collection's current codebook (0: none)
   */
  List<Segment> pick(List<Segment> segments, int codebookVersion) {
    List<Segment> pick = new ArrayList<>();
    for (Segment s : segments) {
      if (s.deletes.getCardinality() >= mergeDeletedRatio * s.size
          || (codebookVersion > 0 && s.codebookVersion != codebookVersion)) {
        pick.add(s);
      }
    }
    if (segments.size() - pick.size() > maxSegments) {
      List<Segment> bySize = new ArrayList<>(segments);
      bySize.removeAll(pick);
      bySize.sort(Comparator.comparingInt(Segment::liveCount));
      int extra = segments.size() - pick.size() - maxSegments + 1;
      pick.addAll(bySize.subList(0, Math.min(bySize.size(), Math.max(2, extra))));
    }
    return pick;
  }

  /** Whether a forced merge of {@code segments} has anything to reclaim. */
  static boolean worthForcing(List<Segment> segments) {
    return segments.size() > 1 || (segments.size() == 1 && !segments.get(0).deletes.isEmpty());
  }
}
