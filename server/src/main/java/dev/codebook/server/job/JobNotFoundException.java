package dev.codebook.server.job;

/** No operation of that name: never started, or finished long enough ago to be forgotten. */
public final class JobNotFoundException extends RuntimeException {

  private final String name;

  public JobNotFoundException(String name) {
    super("operation " + name + " not found: it was never started on this server, or it is"
        + " older than the most recent " + JobRegistry.RETAINED_FINISHED + " finished"
        + " operations the server keeps (across restarts, in its data directory)");
    this.name = name;
  }

  /** The operation's resource name. */
  public String name() {
    return name;
  }
}
