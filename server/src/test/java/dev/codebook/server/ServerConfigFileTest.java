package dev.codebook.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigFileTest {

  @Test
  void everyKeyIsReadAndPathsAreRelativeToTheFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("codebook.yaml");
    Files.writeString(f, """
        host: 0.0.0.0
        port: 7400
        data-dir: store
        search-threads: 3
        search-queue: 17
        search-batch: 8
        build-threads: 2
        build-jobs: 2
        max-inbound-message-bytes: 1048576
        keepalive-time-seconds: 60
        keepalive-timeout-seconds: 5
        permit-keepalive-time-seconds: 1
        max-connection-idle-seconds: 600
        shutdown-grace-seconds: 2.5
        metrics-port: 9400
        tls:
          cert-chain: certs/server.pem
          private-key: certs/server.key
        api-keys:
          - one
          - two
        """);
    ServerConfigFile loaded = ServerConfigFile.load(f);
    ServerConfig c = loaded.config();
    assertEquals("0.0.0.0", c.host());
    assertEquals(7400, c.port());
    assertEquals(dir.toAbsolutePath().resolve("store"), loaded.dataDir());
    assertEquals(3, c.searchThreads());
    assertEquals(17, c.searchQueueCapacity());
    assertEquals(8, c.searchBatch());
    assertEquals(2, c.buildThreads());
    assertEquals(2, c.buildJobs());
    assertEquals(1 << 20, c.maxInboundMessageSize());
    assertEquals(Duration.ofSeconds(60), c.keepAliveTime());
    assertEquals(Duration.ofSeconds(5), c.keepAliveTimeout());
    assertEquals(Duration.ofSeconds(1), c.permitKeepAliveTime());
    assertEquals(Duration.ofMinutes(10), c.maxConnectionIdle());
    assertEquals(Duration.ofMillis(2500), c.shutdownGrace());
    assertEquals(9400, c.metricsPort());
    assertEquals(dir.toAbsolutePath().resolve("certs/server.pem"), c.tlsCertChain());
    assertEquals(dir.toAbsolutePath().resolve("certs/server.key"), c.tlsPrivateKey());
    assertEquals(Set.of("one", "two"), c.apiKeys());
    assertTrue(!c.toString().contains("one"), "keys stay out of the log: " + c);
  }

  @Test
  void anEmptyFileMeansTheDefaults(@TempDir Path dir) throws Exception {
    Path f = Files.writeString(dir.resolve("empty.yaml"), "");
    assertEquals(ServerConfig.defaults(), ServerConfigFile.load(f).config());
  }

  @Test
  void mistakesNameTheFileAndTheKey(@TempDir Path dir) throws Exception {
    Path f = Files.writeString(dir.resolve("typo.yaml"), "serach-threads: 4\n");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ServerConfigFile.load(f));
    assertTrue(e.getMessage().contains("typo.yaml: serach-threads: unknown key"), e.getMessage());
    Files.writeString(f, "port: seven\n");
    e = assertThrows(IllegalArgumentException.class, () -> ServerConfigFile.load(f));
    assertTrue(e.getMessage().contains("port: expected a whole number"), e.getMessage());
    Files.writeString(f, "tls:\n  cert-chain: a.pem\n");
    e = assertThrows(IllegalArgumentException.class, () -> ServerConfigFile.load(f));
    assertTrue(e.getMessage().contains("needs both"), e.getMessage());
    Files.writeString(f, "port: [1\n");
    e = assertThrows(IllegalArgumentException.class, () -> ServerConfigFile.load(f));
    assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
  }
}
