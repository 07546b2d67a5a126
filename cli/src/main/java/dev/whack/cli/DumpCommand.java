package dev.whack.cli;

import dev.whack.cli.output.Human;
import dev.whack.cli.output.JsonOut;
import dev.whack.cli.output.Progress;
import dev.whack.cli.records.RecordFormat;
import dev.whack.cli.records.RecordWriter;
import dev.whack.client.DumpedProfile;
import dev.whack.client.Segments;
import dev.whack.client.WhackClient;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code whack dump}: every profile, or a segment's members, as records {@code load} reads. */
@Command(
    name = "dump",
    mixinStandardHelpOptions = true,
    description = {
      "Write every profile, or the members of a segment query, as load records: NDJSON lines",
      "{\"key\":...,\"profile\":{...}} with event series ($events) and producer marks",
      "($producers), or length-delimited protobuf LoadRecords. 'whack load' of the output",
      "into an empty cluster restores the same profiles (define the segments there too).",
      "To stdout, or to a file (written aside and moved into place when complete); gzipped",
      "when the file name ends in .gz or with --gzip."
    },
    footer = {
      "",
      "Examples:",
      "  whack dump -o backup.ndjson.gz",
      "  whack dump --segment 'dk_buyers and not churned' > dk.ndjson",
      "  whack dump --format proto -o backup.pb.gz",
      "  whack dump | whack load --servers 10.0.0.9:11211 -     copy a cluster"
    })
final class DumpCommand extends ClientCommand {
  @Option(
      names = "--segment",
      paramLabel = "SEGMENT_EXPR",
      description = "only the members of this segment query")
  String segment;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FILE",
      description = "write to FILE instead of stdout")
  String output;

  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      description =
          "ndjson or proto (default: from the file name, .pb/.proto/.bin being proto; else ndjson)")
  String format;

  @Option(names = "--gzip", description = "compress (implied by a file name ending in .gz)")
  boolean gzip;

  @Option(
      names = "--page",
      paramLabel = "N",
      description = "profiles per request (default: ${DEFAULT-VALUE})")
  int page = Segments.DEFAULT_DUMP_PAGE;

  @Option(
      names = "--progress",
      paramLabel = "WHEN",
      description = "auto (when stderr is a terminal), always or never (default: ${DEFAULT-VALUE})")
  String progress = "auto";

  @Option(names = "--json", description = "print the summary as JSON")
  boolean json;

  @Override
  public Integer call() throws IOException {
    RecordFormat f =
        format != null
            ? LoadCommand.parseFormat(format)
            : output != null ? RecordFormat.fromName(output) : null;
    if (f == null) {
      f = RecordFormat.NDJSON;
    }
    if (page < 1 || page > 100_000) {
      throw CliException.usage("--page is 1 to 100000, got " + page);
    }
    if (!java.util.List.of("auto", "always", "never").contains(progress)) {
      throw CliException.usage("--progress is auto, always or never, got " + progress);
    }
    boolean compress = gzip || (output != null && output.endsWith(".gz"));
    boolean showProgress =
        progress.equals("always") || (progress.equals("auto") && terminal().errIsTerminal());
    String query = segment == null || segment.isBlank() ? null : segment;

    Path target = output == null || output.equals("-") ? null : Path.of(output);
    Path partial = target == null ? null : target.resolveSibling(target.getFileName() + ".partial");
    long startNanos = System.nanoTime();
    long count;
    long bytes;
    try (WhackClient client = connect()) {
      long total = showProgress ? total(client, query) : -1;
      AtomicLong done = new AtomicLong();
      boolean complete = false;
      Progress bar =
          showProgress
              ? new Progress(err(), "profiles", done::get, null, -1, () -> total).start()
              : null;
      try (RecordWriter writer =
          RecordWriter.open(partial == null ? null : partial.toString(), out(), f, compress)) {
        if (query == null) {
          // A whole dump carries the segment definitions first, so a load into an empty cluster
          // defines them before the profiles arrive and ends with the same segments.
          for (dev.whack.client.SegmentInfo s : client.blocking().segments().list()) {
            writer.segment(s.name(), s.expression());
          }
        }
        SegmentCommand.withExpression(
            query == null ? "" : query,
            () -> {
              try (Stream<DumpedProfile> profiles = client.segments().dump(query, page)) {
                Iterator<DumpedProfile> it = profiles.iterator();
                while (it.hasNext()) {
                  DumpedProfile p = it.next();
                  writer.profile(p.key(), p.json());
                  done.lazySet(done.get() + 1);
                }
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
              return null;
            });
        complete = true;
        count = writer.records();
        writer.finish();
        bytes = writer.bytesWritten();
      } finally {
        if (bar != null) {
          bar.close();
        }
        if (!complete && partial != null) {
          Files.deleteIfExists(partial);
        }
      }
    }
    if (partial != null) {
      Files.move(
          partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    PrintStream summaryTo = target == null ? err() : out();
    if (json) {
      JsonOut.print(
          summaryTo,
          g -> {
            g.writeStartObject();
            g.writeNumberField("profiles", count);
            g.writeNumberField("bytes", bytes);
            g.writeNumberField("seconds", Math.round(seconds * 1000) / 1000.0);
            g.writeEndObject();
          });
    } else if (target != null || terminal().errIsTerminal()) {
      summaryTo.println(
          "dumped "
              + Human.count(count)
              + (count == 1 ? " profile" : " profiles")
              + (target == null ? "" : " to " + target)
              + " ("
              + Human.bytes(bytes)
              + ") in "
              + Human.seconds(seconds));
    }
    return Whack.EXIT_OK;
  }

  /** How many profiles the dump will write, for the progress bar. */
  private static long total(WhackClient client, String query) {
    try {
      if (query != null) {
        return client.blocking().segments().count(query);
      }
      long sum = 0;
      for (String s : client.servers()) {
        sum += client.blocking().profileCount(s);
      }
      return sum;
    } catch (RuntimeException e) {
      return -1; // the dump itself will say what is wrong
    }
  }
}
