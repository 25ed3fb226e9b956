package dev.codebook.index.collection;

/**
 * A search asked to probe more inverted lists than the collection's built index has. The
 * engine checks this once per search, before any segment is searched.
 */
public final class NprobeOutOfRangeException extends IllegalArgumentException {

  private final int nprobe;
  private final int nlist;

  NprobeOutOfRangeException(int nprobe, int nlist) {
    super("nprobe " + nprobe + " exceeds nlist " + nlist);
    this.nprobe = nprobe;
    this.nlist = nlist;
  }

  public int nprobe() {
    return nprobe;
  }

  public int nlist() {
    return nlist;
  }
}
