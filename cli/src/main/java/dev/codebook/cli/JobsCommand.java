package dev.codebook.cli;

import dev.codebook.api.v1.Operation;
import dev.codebook.client.CodebookClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code codebook jobs}: list, get, cancel and wait for the server's operations. */
@Command(name = "jobs", mixinStandardHelpOptions = true,
    header = "List, show, cancel or wait for a server's background jobs.",
    description = "Follows the background jobs (operations) of a running server: index builds.",
    subcommands = {JobsCommand.ListJobs.class, JobsCommand.Get.class, JobsCommand.Cancel.class,
        JobsCommand.Wait.class})
public final class JobsCommand {

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List operations, newest first (JSON: one line each).")
  static final class ListJobs implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--collection", paramLabel = "NAME", description = "Only this collection's.")
    String collection;

    @Override
    public Integer call() {
      try (CodebookClient c = client.connect()) {
        List<Operation> ops = c.listOperations(collection);
        for (Operation op : ops) {
          if (client.json) {
            client.printJson(ClientOptions.toMap(op));
          } else {
            System.out.println(ClientOptions.describe(op));
          }
        }
        if (!client.json && ops.isEmpty()) {
          System.out.println("no operations");
        }
      }
      return 0;
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "Show one operation.")
  static final class Get implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--name", required = true, paramLabel = "OPERATION",
        description = "operations/ID or ID.")
    String name;

    @Override
    public Integer call() {
      try (CodebookClient c = client.connect()) {
        print(client, c.getOperation(name));
      }
      return 0;
    }
  }

  @Command(name = "cancel", mixinStandardHelpOptions = true,
      header = "Ask an operation to stop.",
      description = "Asks an operation to stop; it stops at its next check: training checks"
          + " every few hundred rows of its work, encoding every 4,096 vectors. With --wait,"
          + " waits until it has.")
  static final class Cancel implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--name", required = true, paramLabel = "OPERATION",
        description = "operations/ID or ID.")
    String name;

    @Option(names = "--wait", description = "Wait until the operation has stopped.")
    boolean waitForIt;

    @Override
    public Integer call() {
      try (CodebookClient c = client.connect()) {
        Operation op = c.cancelOperation(name);
        if (waitForIt) {
          op = c.awaitOperation(op.getName(), Duration.ofMinutes(5), null);
        }
        print(client, op);
      }
      return 0;
    }
  }

  @Command(name = "wait", mixinStandardHelpOptions = true,
      header = "Wait for an operation to finish.",
      description = "Waits for an operation with a progress bar on stderr; exit code 1 unless it"
          + " SUCCEEDED.")
  static final class Wait implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--name", required = true, paramLabel = "OPERATION",
        description = "operations/ID or ID.")
    String name;

    @Option(names = "--max-wait", paramLabel = "SECONDS", defaultValue = "3600",
        description = "Give up waiting after this long (default: ${DEFAULT-VALUE}).")
    long maxWait;

    @Override
    public Integer call() {
      try (CodebookClient c = client.connect()) {
        ProgressBar bar = client.json ? null : new ProgressBar(System.err, "wait");
        Operation op = c.awaitOperation(name, Duration.ofSeconds(maxWait), o -> {
          if (bar != null) {
            bar.update(o.getProgress(), o.getPhase(), o.getDone());
          }
        });
        if (bar != null) {
          bar.finish();
        }
        print(client, op);
        return op.getState() == Operation.State.SUCCEEDED ? 0 : 1;
      }
    }
  }

  static void print(ClientOptions client, Operation op) {
    if (client.json) {
      client.printJson(ClientOptions.toMap(op));
    } else {
      System.out.println(ClientOptions.describe(op));
    }
  }
}
