package dev.whack.bench;

import dev.whack.cli.Terminal;
import dev.whack.cli.Whack;
import dev.whack.cli.output.Human;
import dev.whack.cli.records.RecordFormat;
import dev.whack.cli.records.RecordWriter;
import java.io.IOException;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code whack gen N}: realistic profile records for load tests (scripts/gen-profiles). Hidden: a
 * tool for benchmarks, not part of the product's contract.
 */
@Command(
    name = "gen",
    hidden = true,
    mixinStandardHelpOptions = true,
    description = {
      "Generate N realistic profile records (countries, ages, tags, about 20 attributes, event",
      "histories of the last 30 days, producer marks) with keys user:0 .. user:N-1, as NDJSON",
      "or protobuf, deterministic for a seed. Optionally followed by update records."
    },
    footer = {
      "",
      "Examples:",
      "  whack gen 4000000 -o /tmp/profiles.ndjson",
      "  whack gen 100000 --format proto -o /tmp/profiles.pb.gz",
      "  whack gen 1000 --updates 5000 | whack load -"
    })
final class GenCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "N", description = "how many profiles")
  long count;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FILE",
      description = "write to FILE instead of stdout")
  String output;

  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      description = "ndjson or proto (default: from the name, else ndjson)")
  String format;

  @Option(names = "--gzip", description = "compress (implied by a name ending in .gz)")
  boolean gzip;

  @Option(
      names = "--updates",
      paramLabel = "M",
      description = "then M update records on random profiles")
  long updates;

  @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
  long seed = 42;

  @Option(
      names = "--now",
      paramLabel = "MILLIS",
      description = "the time the histories end at, ms since the epoch (default: now)")
  Long nowMillis;

  @Override
  public Integer call() throws IOException {
    if (count < 0 || updates < 0) {
      throw new ParameterException(spec.commandLine(), "N and --updates are not negative");
    }
    if (updates > 0 && count == 0) {
      throw new ParameterException(spec.commandLine(), "--updates needs profiles to update");
    }
    RecordFormat f =
        format != null
            ? parseFormat(format)
            : output != null ? RecordFormat.fromName(output) : null;
    if (f == null) {
      f = RecordFormat.NDJSON;
    }
    boolean compress = gzip || (output != null && output.endsWith(".gz"));
    ProfileWorkload workload =
        new ProfileWorkload(nowMillis == null ? System.currentTimeMillis() : nowMillis);
    SplittableRandom r = new SplittableRandom(seed);
    long start = System.nanoTime();
    Terminal terminal = Whack.terminal(spec);
    long bytes;
    try (RecordWriter writer = RecordWriter.open(output, terminal.out(), f, compress)) {
      for (long i = 0; i < count; i++) {
        writer.profile("user:" + i, workload.profileWithHistory(r));
      }
      for (long i = 0; i < updates; i++) {
        writer.update("user:" + r.nextLong(count), workload.update(r));
      }
      writer.finish();
      bytes = writer.bytesWritten();
    }
    if (output != null) {
      terminal
          .err()
          .println(
              "gen: "
                  + Human.count(count + updates)
                  + " records to "
                  + output
                  + " ("
                  + Human.bytes(bytes)
                  + ") in "
                  + Human.seconds((System.nanoTime() - start) / 1e9));
    }
    return Whack.EXIT_OK;
  }

  /** The names {@code whack load --format} takes for the two formats. */
  private RecordFormat parseFormat(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "ndjson", "json", "jsonl" -> RecordFormat.NDJSON;
      case "proto", "protobuf", "pb" -> RecordFormat.PROTO;
      default ->
          throw new ParameterException(
              spec.commandLine(), "--format is ndjson or proto, got " + name);
    };
  }
}
