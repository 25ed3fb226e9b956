package dev.codebook.server.collection;

/** No collection of that name: NOT_FOUND. */
public final class CollectionNotFoundException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String name;

  /** @param name the resource name, {@code collections/{id}} */
  public CollectionNotFoundException(String name) {
    super(name + " not found; ListCollections shows the collections that exist");
    this.name = name;
  }

  public String name() {
    return name;
  }
}
