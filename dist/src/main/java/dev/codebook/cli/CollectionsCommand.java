package dev.codebook.cli;

import dev.codebook.api.v1.Collection;
import dev.codebook.client.CodebookClient;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code codebook collections create|list|get|delete}: manage a server's collections. */
@Command(
    name = "collections",
    mixinStandardHelpOptions = true,
    description = "Create, list, show and delete collections on a running server.",
    subcommands = {
      CollectionsCommand.Create.class, CollectionsCommand.ListCollections.class,
      CollectionsCommand.Get.class, CollectionsCommand.Delete.class
    })
public final class CollectionsCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing subcommand: create, list, get or delete");
  }

  /** Text form of one collection. */
  static void printText(Collection c) {
    System.out.printf("%-24s dim %-5d %-11s %-24s %,10d vectors  %s%n", ClientOptions.id(c.getName()),
        c.getDimension(), c.getMetric(), c.getIndexSpec(), c.getVectorCount(), c.getState());
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create an empty collection (searchable exactly until `codebook build`).")
  static final class Create implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--name", required = true, paramLabel = "NAME",
        description = "Collection id: lower-case letters, digits, hyphens.")
    String name;

    @Option(names = "--dimension", required = true, paramLabel = "D", description = "Vector dimension.")
    int dimension;

    @Option(names = "--metric", defaultValue = "cosine",
        description = "cosine, dot or l2 (default: ${DEFAULT-VALUE}).")
    String metric;

    @Option(names = "--index", paramLabel = "SPEC", defaultValue = "Flat",
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

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "Collection id.")
    String name;

    @Override
    public Integer call() {
      try (CodebookClient c = client.connect()) {
        Collection col = c.getCollection(name);
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

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "Collection id.")
    String name;

    @Override
    public Integer call() {
      try (CodebookClient c = client.connect()) {
        c.deleteCollection(name);
        if (client.json) {
          client.printJson(Map.of("deleted", "collections/" + ClientOptions.id(name)));
        } else {
          System.out.println("deleted collections/" + ClientOptions.id(name));
        }
      }
      return 0;
    }
  }
}
