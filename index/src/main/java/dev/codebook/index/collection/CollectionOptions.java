package dev.codebook.index.collection;

import dev.codebook.index.filter.AttributeValue;
import dev.codebook.index.filter.Filter;
import dev.codebook.index.store.Durability;
import java.util.Map;
import java.util.function.Function;

/**
 * Tuning of an open collection.
 *
 * @param durability when writes are acknowledged
 * @param flushRows buffered rows that trigger a flush ({@link FlushPolicy})
 * @param maxSegments more segments than this trigger a merge of the smallest ({@link
 *     MergePolicy})
 * @param mergeDeletedRatio a segment with this fraction of rows deleted is rewritten
 * @param backgroundMaintenance flush and merge on a background thread (off: only when asked;
 *     see {@link MaintenanceScheduler})
 * @param attributeDecoder turns a row's attribute blob into filterable values (for {@link
 *     Filter}s; the default sees no attributes)
 */
public record CollectionOptions(Durability durability, int flushRows, int maxSegments,
    double mergeDeletedRatio, boolean backgroundMaintenance,
    Function<byte[], Map<String, AttributeValue>> attributeDecoder) {

  public static final int DEFAULT_FLUSH_ROWS = 20_000;
  public static final int DEFAULT_MAX_SEGMENTS = 8;
  public static final double DEFAULT_MERGE_DELETED_RATIO = 0.3;

  public CollectionOptions {
    attributeDecoder = attributeDecoder == null ? b -> Map.of() : attributeDecoder;
    if (flushRows <= 0 || maxSegments < 1 || !(mergeDeletedRatio > 0)) {
      throw new IllegalArgumentException("bad store options: flushRows " + flushRows
          + ", maxSegments " + maxSegments + ", mergeDeletedRatio " + mergeDeletedRatio);
    }
  }

  public static CollectionOptions defaults() {
    return new CollectionOptions(Durability.group(Durability.DEFAULT_INTERVAL),
        DEFAULT_FLUSH_ROWS, DEFAULT_MAX_SEGMENTS, DEFAULT_MERGE_DELETED_RATIO, true, null);
  }

  public CollectionOptions withDurability(Durability d) {
    return new CollectionOptions(d, flushRows, maxSegments, mergeDeletedRatio,
        backgroundMaintenance, attributeDecoder);
  }

  public CollectionOptions withFlushRows(int rows) {
    return new CollectionOptions(durability, rows, maxSegments, mergeDeletedRatio,
        backgroundMaintenance, attributeDecoder);
  }

  public CollectionOptions withMaxSegments(int n) {
    return new CollectionOptions(durability, flushRows, n, mergeDeletedRatio,
        backgroundMaintenance, attributeDecoder);
  }

  public CollectionOptions withBackgroundMaintenance(boolean on) {
    return new CollectionOptions(durability, flushRows, maxSegments, mergeDeletedRatio, on,
        attributeDecoder);
  }

  public CollectionOptions withAttributeDecoder(
      Function<byte[], Map<String, AttributeValue>> decoder) {
    return new CollectionOptions(durability, flushRows, maxSegments, mergeDeletedRatio,
        backgroundMaintenance, decoder);
  }
}
