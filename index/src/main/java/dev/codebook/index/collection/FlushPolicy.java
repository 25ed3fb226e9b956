package dev.codebook.index.collection;

/**
 * When the write buffer becomes a segment: once it holds {@link CollectionOptions#flushRows}
 * rows (Lucene's {@code FlushPolicy} by document count). Stateless.
 */
final class FlushPolicy {

  private final int flushRows;

  FlushPolicy(int flushRows) {
    this.flushRows = flushRows;
  }

  /** Whether a buffer of {@code bufferedRows} rows should be flushed. */
  boolean needsFlush(int bufferedRows) {
    return bufferedRows >= flushRows;
  }
}
