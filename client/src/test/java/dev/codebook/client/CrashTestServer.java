package dev.codebook.client;

import dev.codebook.index.simd.VectorKernels;
import dev.codebook.index.collection.CollectionOptions;
import dev.codebook.index.store.Durability;
import dev.codebook.server.CodebookServer;
import dev.codebook.server.ServerConfig;
import dev.codebook.server.collection.CollectionRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * The server process {@link CrashRecoveryTest} kills: opens the data directory, listens on a
 * free port and publishes it in a file (written, then renamed), then serves until killed. It
 * first prints {@code kernels=NAME}, the kernel provider it runs.
 *
 * <p>Arguments: {@code DATA_DIR PORT_FILE DURABILITY FLUSH_ROWS}.
 */
public final class CrashTestServer {

  private CrashTestServer() {}

  public static void main(String[] args) throws Exception {
    Path data = Path.of(args[0]);
    Path portFile = Path.of(args[1]);
    System.out.println("kernels=" + VectorKernels.support().name());
    CollectionOptions options = CollectionOptions.defaults()
        .withDurability(Durability.parse(args[2])).withFlushRows(Integer.parseInt(args[3]))
        .withMaxSegments(4);
    CollectionRegistry registry = CollectionRegistry.open(data, options);
    CodebookServer server = CodebookServer.start(ServerConfig.defaults().withPort(0)
        .withShutdownGrace(Duration.ofSeconds(2)), registry);
    Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
    Files.writeString(tmp, Integer.toString(server.port()));
    Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE);
    server.awaitTermination();
  }
}
