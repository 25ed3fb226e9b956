package dev.codebook.server.collection;

/** A collection of that name exists already: ALREADY_EXISTS. */
public final class CollectionAlreadyExistsException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String name;

  /** @param name the resource name, {@code collections/{id}} */
  public CollectionAlreadyExistsException(String name) {
    super(name + " already exists; delete it first or choose another collection_id");
    this.name = name;
  }

  public String name() {
    return name;
  }
}
