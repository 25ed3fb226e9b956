/**
 * Command-line options that several {@code codebook} subcommands share, as picocli
 * {@code @Mixin}s, so that the same thing has the same name, help text, default and checks
 * everywhere: how to reach a server ({@link dev.codebook.loadtest.cli.ConnectionOptions}),
 * {@code --collection} ({@link dev.codebook.loadtest.cli.CollectionOption}), {@code --k}
 * ({@link dev.codebook.loadtest.cli.TopKOption}), {@code --seed} ({@link
 * dev.codebook.loadtest.cli.SeedOption}), {@code --out FILE.jsonl} ({@link
 * dev.codebook.loadtest.cli.JsonLinesOutOption}), {@code --metric} ({@link
 * dev.codebook.loadtest.cli.MetricConverter}) and the defaults ({@link
 * dev.codebook.loadtest.cli.Defaults}). An option whose help text differs between commands
 * (e.g. {@code --nprobe}: one value in {@code search}, a sweep in {@code bench}) stays with its
 * command. They live here, in the lowest module with commands, because the {@code cli}
 * module's commands build on this one.
 *
 * <p>Threading: picocli fills a mixin once per parse, on the parsing thread; commands read it
 * afterwards.
 */
package dev.codebook.loadtest.cli;
