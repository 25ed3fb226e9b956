package dev.codebook.cli;

import dev.codebook.client.CodebookException;
import dev.codebook.loadtest.bench.BenchCommand;
import dev.codebook.loadtest.load.LoadTestCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/codebook}: one command, one subcommand per job. Errors a user can act on print one
 * line, {@code codebook: error: ...}, and exit 1 (2 for a usage error); {@code --debug} or
 * {@code CODEBOOK_DEBUG=1} adds the stack trace.
 */
@Command(
    name = "codebook",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Codebook: vector-quantized embedding retrieval.",
    subcommands = {
      BenchCommand.class, BuildCommand.class, CollectionsCommand.class, InfoCommand.class,
      IngestCommand.class, JobsCommand.class, LoadTestCommand.class, SearchCommand.class,
      ServeCommand.class, CommandLine.HelpCommand.class})
public final class Main {

  @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
      description = "Print stack traces for errors.")
  boolean debug;

  public static void main(String[] args) {
    // Netty's leak detector records a stack trace for one buffer in 128 by default: a cost per
    // call on the server's and the load generator's hot path. Tests keep it on (they do not come
    // through here); set -Dio.netty.leakDetection.level to turn it back on.
    if (System.getProperty("io.netty.leakDetection.level") == null) {
      System.setProperty("io.netty.leakDetection.level", "disabled");
    }
    LibraryLogging.install(java.util.Arrays.asList(args).contains("--debug")
        || "1".equals(System.getenv("CODEBOOK_DEBUG")));
    System.exit(run(args));
  }

  /** Runs a command line and returns the exit code (tests call this). */
  public static int run(String... args) {
    Main main = new Main();
    CommandLine cl = new CommandLine(main);
    // A usage error is one line too, with where to look, rather than the whole usage text.
    cl.setParameterExceptionHandler((ex, args2) -> {
      CommandLine cmd = ex.getCommandLine();
      PrintWriter err = cmd.getErr();
      err.println("codebook: error: " + ex.getMessage() + " (see `" + cmd.getCommandSpec().qualifiedName()
          + " --help`)");
      err.flush();
      return cmd.getCommandSpec().exitCodeOnInvalidInput();
    });
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          PrintWriter err = commandLine.getErr();
          err.println("codebook: error: " + describe(ex));
          if (main.debug || "1".equals(System.getenv("CODEBOOK_DEBUG"))) {
            ex.printStackTrace(err);
          }
          err.flush();
          return 1;
        });
    return cl.execute(args);
  }

  /** One line a person can act on, without the exception class noise for the expected kinds. */
  static String describe(Throwable ex) {
    if (ex instanceof NoSuchFileException e) {
      return "no such file: " + e.getFile();
    }
    if (ex instanceof AccessDeniedException e) {
      return "permission denied: " + e.getFile();
    }
    if (ex instanceof CodebookException e) {
      return e.getMessage();
    }
    if (ex instanceof IOException || ex instanceof IllegalArgumentException
        || ex instanceof IllegalStateException || ex instanceof UnsupportedOperationException) {
      return ex.getMessage() != null ? ex.getMessage() : ex.toString();
    }
    return ex.toString();
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"codebook " + (v != null ? v : "0.1.0-SNAPSHOT")};
    }
  }
}
