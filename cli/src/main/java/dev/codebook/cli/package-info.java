/**
 * The {@code codebook} command-line program ({@code bin/codebook}, module {@code cli}): {@link
 * dev.codebook.cli.Main} and one picocli command per subcommand: {@code serve} (the server in
 * this JVM), the client commands ({@code collections}, {@code ingest}, {@code search}, {@code
 * build}, {@code jobs}, which call a server through {@link dev.codebook.client.CodebookClient}),
 * {@code info}, and {@code bench} and {@code loadtest} from the {@code loadtest} module.
 *
 * <p>Options shared by several commands are mixins: {@code ClientOptions} (connection, retries,
 * {@code --json}; built on {@link dev.codebook.loadtest.cli.ConnectionOptions}), {@code
 * CollectionNameOption} ({@code --collection}/{@code --name} of the {@code collections}
 * subcommands) and the ones in {@code dev.codebook.loadtest.cli}.
 *
 * <p>Threading: each command runs on the main thread; {@code serve} blocks it until the server
 * stops.
 */
package dev.codebook.cli;
