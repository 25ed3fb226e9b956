package dev.codebook.cli;

import dev.codebook.api.v1.BuildIndexResponse;
import dev.codebook.api.v1.Collection;
import dev.codebook.api.v1.Operation;
import dev.codebook.client.CodebookClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code codebook build}: start a build job on the server and (by default) wait for it. */
@Command(name = "build", mixinStandardHelpOptions = true,
    description = {
      "Trains the collection's index spec on its vectors and swaps the index in, as a job on",
      "the server (an operation, see `codebook jobs`). Waits for it with a progress bar on",
      "stderr unless --no-wait; Ctrl-C while waiting leaves the job running."
    })
public final class BuildCommand implements Callable<Integer> {

  @Mixin ClientOptions client;

  @Option(names = "--collection", required = true, paramLabel = "NAME", description = "Collection id.")
  String collection;

  @Option(names = "--index", paramLabel = "SPEC",
      description = "Expected index spec; the spec is fixed when the collection is created, so a"
          + " different one is an error rather than a silent rebuild with the old spec.")
  String index;

  @Option(names = "--seed", defaultValue = "0",
      description = "Training seed (default: 0, the server's default seed).")
  long seed;

  @Option(names = "--build-timeout", paramLabel = "SECONDS", defaultValue = "3600",
      description = "How long to wait for the build (default: ${DEFAULT-VALUE}).")
  long buildTimeout;

  @Option(names = "--no-wait", description = "Print the started operation and return at once.")
  boolean noWait;

  @Override
  public Integer call() {
    try (CodebookClient c = client.builder().buildDeadline(Duration.ofSeconds(buildTimeout))
        .build()) {
      if (index != null) {
        Collection current = c.getCollection(collection);
        if (!current.getIndexSpec().equalsIgnoreCase(index.strip())) {
          throw new IllegalArgumentException("collections/" + ClientOptions.id(collection)
              + " was created with index spec " + current.getIndexSpec() + ", not " + index
              + "; the spec is fixed at creation (create a new collection for another spec)");
        }
      }
      Operation op = c.startBuildIndex(collection, seed);
      if (noWait) {
        if (client.json) {
          client.printJson(ClientOptions.toMap(op));
        } else {
          System.out.println("started " + op.getName() + "; follow it with `codebook jobs wait"
              + " --name " + op.getName() + "`");
        }
        return 0;
      }
      ProgressBar bar = client.json ? null : new ProgressBar(System.err, "build");
      op = c.awaitOperation(op.getName(), Duration.ofSeconds(buildTimeout), o -> {
        if (bar != null) {
          bar.update(o.getProgress(), o.getPhase(), o.getDone());
        }
      });
      if (bar != null) {
        bar.finish();
      }
      BuildIndexResponse r = CodebookClient.resultOf(op);
      double seconds = r.getBuildDuration().getSeconds() + r.getBuildDuration().getNanos() / 1e9;
      if (client.json) {
        Map<String, Object> m = ClientOptions.toMap(r.getCollection());
        m.put("operation", op.getName());
        m.put("training_vector_count", r.getTrainingVectorCount());
        m.put("build_s", seconds);
        client.printJson(m);
      } else {
        System.out.printf("built %s (%s): %,d vectors, trained on %,d, %.1f s; %s (%s)%n",
            r.getCollection().getName(), r.getCollection().getIndexSpec(),
            r.getCollection().getVectorCount(), r.getTrainingVectorCount(), seconds,
            r.getCollection().getState(), op.getName());
      }
    }
    return 0;
  }
}
