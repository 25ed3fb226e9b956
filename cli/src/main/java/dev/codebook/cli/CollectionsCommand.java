package dev.codebook.cli;

import dev.codebook.api.v1.BackupCollectionResponse;
import dev.codebook.api.v1.Collection;
import dev.codebook.client.CodebookClient;
import dev.codebook.index.vector.Similarity;
import dev.codebook.loadtest.cli.Defaults;
import dev.codebook.loadtest.cli.MetricConverter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code codebook collections create|list|get|delete|backup|restore}: manage a server's
 * collections.
 */
@Command(
    name = "collections",
    mixinStandardHelpOptions = true,
    header = "Create, list, show, delete, back up or restore collections.",
    description = "Manages the collections of a running server, one subcommand per action.",
    subcommands = {
      CollectionsCommand.Create.class, CollectionsCommand.ListCollections.class,
      CollectionsCommand.Get.class, CollectionsCommand.Delete.class,
      CollectionsCommand.Backup.class, CollectionsCommand.Restore.class
    })
public final class CollectionsCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing subcommand: create, list, get, delete, backup or restore");
  }

  /** Text form of one collection. */
  static void printText(Collection c) {
    if (c.getState() == Collection.State.FAILED) {
      System.out.printf("%-24s FAILED: %s%n", ClientOptions.id(c.getName()), c.getFailure());
      return;
    }
    System.out.printf("%-24s dim %-5d %-11s %-24s %,10d vectors  %s%n", ClientOptions.id(c.getName()),
        c.getDimension(), c.getMetric(), c.getIndexSpec(), c.getVectorCount(), c.getState());
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      header = "Create an empty collection.",
      description = "Creates an empty collection, searched exactly until `codebook build` has"
          + " trained its index.")
  static final class Create implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = {"--collection", "--name"}, required = true, paramLabel = "NAME",
        description = "Collection id: lower-case letters, digits, hyphens.")
    String name;

    @Option(names = "--dimension", required = true, paramLabel = "D", description = "Vector dimension.")
    int dimension;

    @Option(names = "--metric", paramLabel = "METRIC", defaultValue = Defaults.METRIC,
        converter = MetricConverter.class,
        description = MetricConverter.NAMES + " (default: ${DEFAULT-VALUE}).")
    Similarity metric;

    @Option(names = "--index", paramLabel = "SPEC", defaultValue = Defaults.INDEX,
        description = "Index spec, e.g. Flat, IVF256,PQ32, IVF256,PQ48x4fs,RFlat (default: ${DEFAULT-VALUE}).")
    String index;

    @Override
    public Integer call() {
      try (CodebookClient c = client.connect()) {
        Collection created = c.createCollection(name, dimension, ClientOptions.metric(metric), index);
        if (client.json) {
          client.printJson(ClientOptions.toMap(created));
        } else {
          System.out.println("created " + created.getName());
        }
      }
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List every collection.")
  static final class ListCollections implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Override
    public Integer call() {
      try (CodebookClient c = client.connect()) {
        List<Collection> all = c.listCollections();
        if (client.json) {
          for (Collection col : all) {
            client.printJson(ClientOptions.toMap(col));
          }
        } else if (all.isEmpty()) {
          System.out.println("no collections");
        } else {
          for (Collection col : all) {
            printText(col);
          }
        }
      }
      return 0;
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "Show one collection.")
  static final class Get implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Mixin CollectionNameOption collection;

    @Override
    public Integer call() {
      try (CodebookClient c = client.connect()) {
        Collection col = c.getCollection(collection.name());
        if (client.json) {
          client.printJson(ClientOptions.toMap(col));
        } else {
          for (Map.Entry<String, Object> e : ClientOptions.toMap(col).entrySet()) {
            System.out.printf("%-13s %s%n", e.getKey(), e.getValue());
          }
        }
      }
      return 0;
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Delete a collection and all its vectors.")
  static final class Delete implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Mixin CollectionNameOption collection;

    @Override
    public Integer call() {
      try (CodebookClient c = client.connect()) {
        c.deleteCollection(collection.name());
        if (client.json) {
          client.printJson(Map.of("deleted", "collections/" + ClientOptions.id(collection.name())));
        } else {
          System.out.println("deleted collections/" + ClientOptions.id(collection.name()));
        }
      }
      return 0;
    }
  }

  /**
   * A directory on the server: absolute paths pass as they are; a relative one is resolved
   * against this command's working directory, which is right when the server runs on this
   * machine.
   */
  static String serverPath(String dir) {
    return java.nio.file.Path.of(dir).toAbsolutePath().normalize().toString();
  }

  @Command(name = "backup", mixinStandardHelpOptions = true,
      header = "Back up a collection into a directory on the server.",
      description = "Copies a consistent snapshot of a collection into a directory on the"
          + " server; writes go on meanwhile.")
  static final class Backup implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Mixin CollectionNameOption collection;

    @Option(names = "--to", required = true, paramLabel = "DIR",
        description = "A missing or empty directory on the server's filesystem (relative: from"
            + " here).")
    String to;

    @Override
    public Integer call() {
      String dir = serverPath(to);
      try (CodebookClient c = client.connect()) {
        System.err.println("[backup] collections/" + ClientOptions.id(collection.name()) + " to " + dir
            + " on " + c.target() + " ...");
        BackupCollectionResponse r = c.backupCollection(collection.name(), dir);
        if (client.json) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("name", r.getName());
          m.put("directory", r.getDirectory());
          m.put("file_count", r.getFileCount());
          m.put("size_bytes", r.getSizeBytes());
          m.put("vector_count", r.getVectorCount());
          m.put("manifest_generation", r.getManifestGeneration());
          client.printJson(m);
        } else {
          System.out.printf("backed up %s to %s: %,d vectors, %d files, %,d bytes%n", r.getName(),
              r.getDirectory(), r.getVectorCount(), r.getFileCount(), r.getSizeBytes());
        }
      }
      return 0;
    }
  }

  @Command(name = "restore", mixinStandardHelpOptions = true,
      header = "Restore a backup as a new collection.",
      description = "Creates a new collection from a backup in a directory on the server.")
  static final class Restore implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = {"--collection", "--name"}, required = true, paramLabel = "NAME",
        description = "Id of the collection to create (must not exist).")
    String name;

    @Option(names = "--from", required = true, paramLabel = "DIR",
        description = "A directory `collections backup` wrote, on the server's filesystem"
            + " (relative: from here).")
    String from;

    @Override
    public Integer call() {
      String dir = serverPath(from);
      try (CodebookClient c = client.connect()) {
        System.err.println("[restore] collections/" + ClientOptions.id(name) + " from " + dir
            + " on " + c.target() + " ...");
        Collection col = c.restoreCollection(name, dir);
        if (client.json) {
          client.printJson(ClientOptions.toMap(col));
        } else {
          System.out.printf("restored %s from %s: %,d vectors, %s%n", col.getName(), dir,
              col.getVectorCount(), col.getState());
        }
      }
      return 0;
    }
  }
}
