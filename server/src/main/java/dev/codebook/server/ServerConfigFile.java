package dev.codebook.server;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The server's configuration file, YAML. Every key is optional; what is absent keeps its
 * default ({@link ServerConfig#defaults()}), and command-line flags override the file. Relative
 * paths are resolved against the file's directory. An unknown key is an error naming it, so a
 * typo does not silently leave a default in place.
 *
 * <pre>{@code
 * host: 127.0.0.1            # 0.0.0.0 for every interface
 * port: 7300
 * data-dir: ./data
 * search-threads: 2          # default: one per core
 * search-queue: 256          # waiting searches before RESOURCE_EXHAUSTED
 * search-batch: 16           # queued single-query calls merged into one search; 1: off
 * build-threads: 2           # threads of one index build; default: one per core
 * build-jobs: 1              # index builds that run at once
 * max-inbound-message-bytes: 67108864
 * keepalive-time-seconds: 120
 * keepalive-timeout-seconds: 20
 * permit-keepalive-time-seconds: 10
 * max-connection-idle-seconds: 1800
 * shutdown-grace-seconds: 30
 * metrics-port: 9300         # Prometheus /metrics; absent or -1: off
 * tls:
 *   cert-chain: server.pem   # PEM certificate chain
 *   private-key: server.key  # PEM PKCS#8 private key
 * api-keys:                  # bearer tokens; absent or empty: no authentication
 *   - change-me
 * }</pre>
 *
 * @param config the server configuration the file describes
 * @param dataDir its {@code data-dir}, or null if it has none
 */
public record ServerConfigFile(ServerConfig config, Path dataDir) {

  private static final Set<String> KEYS = Set.of("host", "port", "data-dir", "search-threads",
      "search-queue", "search-batch", "build-threads", "build-jobs", "max-inbound-message-bytes",
      "keepalive-time-seconds", "keepalive-timeout-seconds", "permit-keepalive-time-seconds",
      "max-connection-idle-seconds", "shutdown-grace-seconds", "metrics-port", "tls", "api-keys",
      "backup-root");

  /**
   * Reads {@code file} over {@link ServerConfig#defaults()}.
   *
   * @throws IOException if it cannot be read
   * @throws IllegalArgumentException naming the file and key for bad content
   */
  public static ServerConfigFile load(Path file) throws IOException {
    Map<String, Object> map;
    try (Reader r = Files.newBufferedReader(file)) {
      Object root = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
      if (root == null) {
        map = Map.of();
      } else if (root instanceof Map<?, ?> m) {
        @SuppressWarnings("unchecked")
        Map<String, Object> cast = (Map<String, Object>) m;
        map = cast;
      } else {
        throw new IllegalArgumentException(file + ": expected a YAML mapping of settings");
      }
    } catch (YAMLException e) {
      throw new IllegalArgumentException(file + ": not valid YAML: " + e.getMessage(), e);
    }
    Path dir = file.toAbsolutePath().getParent();
    ServerConfig.Builder b = ServerConfig.defaults().toBuilder();
    Path dataDir = null;
    for (Map.Entry<String, Object> e : map.entrySet()) {
      String key = String.valueOf(e.getKey());
      Object v = e.getValue();
      String where = file + ": " + key;
      switch (key) {
        case "host" -> b.host(string(where, v));
        case "port" -> b.port(integer(where, v));
        case "data-dir" -> dataDir = dir.resolve(string(where, v));
        case "search-threads" -> b.searchThreads(integer(where, v));
        case "search-queue" -> b.searchQueueCapacity(integer(where, v));
        case "search-batch" -> b.searchBatch(integer(where, v));
        case "build-threads" -> b.buildThreads(integer(where, v));
        case "build-jobs" -> b.buildJobs(integer(where, v));
        case "max-inbound-message-bytes" -> b.maxInboundMessageSize(integer(where, v));
        case "keepalive-time-seconds" -> b.keepAliveTime(seconds(where, v));
        case "keepalive-timeout-seconds" -> b.keepAliveTimeout(seconds(where, v));
        case "permit-keepalive-time-seconds" -> b.permitKeepAliveTime(seconds(where, v));
        case "max-connection-idle-seconds" -> b.maxConnectionIdle(seconds(where, v));
        case "shutdown-grace-seconds" -> b.shutdownGrace(seconds(where, v));
        case "metrics-port" -> b.metricsPort(integer(where, v));
        case "backup-root" -> b.backupRoot(dir.resolve(string(where, v)));
        case "tls" -> {
          if (!(v instanceof Map<?, ?> tls)) {
            throw new IllegalArgumentException(where + ": expected cert-chain and private-key");
          }
          for (Object k : tls.keySet()) {
            if (!k.equals("cert-chain") && !k.equals("private-key")) {
              throw new IllegalArgumentException(where + "." + k
                  + ": unknown key; expected cert-chain and private-key");
            }
          }
          Object chain = tls.get("cert-chain");
          Object key2 = tls.get("private-key");
          b.tls(chain == null ? null : dir.resolve(string(where + ".cert-chain", chain)),
              key2 == null ? null : dir.resolve(string(where + ".private-key", key2)));
        }
        case "api-keys" -> {
          Set<String> keys = new LinkedHashSet<>();
          if (v != null) {
            if (!(v instanceof List<?> list)) {
              throw new IllegalArgumentException(where + ": expected a list of keys");
            }
            for (Object k : list) {
              keys.add(string(where, k));
            }
          }
          b.apiKeys(keys);
        }
        default -> throw new IllegalArgumentException(where + ": unknown key; known keys: "
            + KEYS.stream().sorted().toList());
      }
    }
    try {
      return new ServerConfigFile(b.build(), dataDir);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static String string(String where, Object v) {
    if (v == null || v instanceof Map || v instanceof List) {
      throw new IllegalArgumentException(where + ": expected a value, got " + v);
    }
    return String.valueOf(v);
  }

  private static int integer(String where, Object v) {
    if (v instanceof Integer i) {
      return i;
    }
    throw new IllegalArgumentException(where + ": expected a whole number, got " + v);
  }

  private static Duration seconds(String where, Object v) {
    if (v instanceof Number n) {
      return Duration.ofMillis(Math.round(n.doubleValue() * 1000));
    }
    throw new IllegalArgumentException(where + ": expected a number of seconds, got " + v);
  }
}
