package dev.codebook.server.job;

/** No operation of that name: never started, or finished long enough ago to be forgotten. */
public final class JobNotFoundException extends RuntimeException {

  private final String name;

  public JobNotFoundException(String name) {
    super("operation " + name + " not found; the server keeps the most recent "
        + JobRegistry.RETAINED_FINISHED + " finished operations and forgets them on restart");
    this.name = name;
  }

  /** The operation's resource name. */
  public String name() {
    return name;
  }
}
