/**
 * Command-line options every {@code codebook} subcommand shares, so that the same thing has
 * the same name, default and checks everywhere: how to reach a server ({@link
 * ConnectionOptions}), {@code --k} ({@link TopKOption}), {@code --metric} ({@link
 * MetricConverter}) and the defaults ({@link Defaults}). They live here, in the lowest module
 * with commands, because the {@code cli} module's commands build on this one.
 */
package dev.codebook.loadtest.cli;
