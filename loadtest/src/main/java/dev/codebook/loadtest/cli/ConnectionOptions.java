package dev.codebook.loadtest.cli;

import dev.codebook.client.CodebookClient;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * Where the server is and how to reach it: {@code --target}, {@code --api-key}, {@code
 * --timeout}, {@code --tls}, {@code --tls-ca}, the same in every command that calls a server.
 * (Retries are each command's own: the client commands retry, a load test counts failures.)
 */
public class ConnectionOptions {

  @Option(names = "--target", paramLabel = "HOST:PORT", defaultValue = CodebookClient.DEFAULT_TARGET,
      description = "Server address (default: ${DEFAULT-VALUE}, what `codebook serve` binds).")
  protected String target;

  @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:CODEBOOK_API_KEY}",
      description = "API key, sent as a bearer token (default: $CODEBOOK_API_KEY).")
  protected String apiKey;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
      description = "Deadline of each call attempt (default: ${DEFAULT-VALUE}).")
  protected double timeout;

  @Option(names = "--tls", description = "Use TLS (default: plaintext, for loopback).")
  protected boolean tls;

  @Option(names = "--tls-ca", paramLabel = "PEM",
      description = "Trust these PEM certificates (implies --tls), e.g. a self-signed server's.")
  protected Path tlsCa;

  /** {@code --target} as given. */
  public String target() {
    return target;
  }

  /** {@code --timeout} in seconds. */
  public double timeoutSeconds() {
    return timeout;
  }

  /** A client builder with these options; callers set more (retries, event loops). */
  public CodebookClient.Builder builder() {
    if (!(timeout > 0) || Double.isInfinite(timeout)) {
      throw new IllegalArgumentException("--timeout must be positive, got " + timeout);
    }
    return CodebookClient.builder().target(target).apiKey(apiKey)
        .deadline(Duration.ofNanos((long) (timeout * 1e9))).tls(tls).trustCertificates(tlsCa);
  }
}
