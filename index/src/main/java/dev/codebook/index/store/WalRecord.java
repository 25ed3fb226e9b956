package dev.codebook.index.store;

import java.util.List;

/** One logged request: applied all or nothing, on replay as when it was first made. */
public sealed interface WalRecord {

  /**
   * Insert or replace vectors.
   *
   * @param ids one id per row
   * @param values {@code ids.size() * dimension} floats, row-major, as upserted
   * @param attributes one opaque attribute blob per row (empty for none)
   */
  record Upsert(List<String> ids, float[] values, List<byte[]> attributes) implements WalRecord {}

  /** Delete vectors by id (ids that do not exist are skipped). */
  record Delete(List<String> ids) implements WalRecord {}
}
