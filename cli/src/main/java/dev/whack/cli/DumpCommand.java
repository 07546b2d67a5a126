package dev.whack.cli;

import dev.whack.cli.output.Human;
import dev.whack.cli.output.JsonOut;
import dev.whack.cli.output.Progress;
import dev.whack.cli.records.RecordFormat;
import dev.whack.cli.records.RecordWriter;
import dev.whack.client.DumpedItem;
import dev.whack.client.DumpedProfile;
import dev.whack.client.Segments;
import dev.whack.client.WhackClient;
import dev.whack.client.protocol.Keys;
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

/**
 * {@code whack dump}: segments, profiles and opaque items, or a segment's members, as records
 * {@code load} reads.
 */
@Command(
    name = "dump",
    mixinStandardHelpOptions = true,
    description = {
      "Write everything the cluster holds as load records: the segment definitions, every",
      "profile (with event series, $events, and producer marks, $producers), then every opaque",
      "item (a plain memcached value: the value in base64, its flags and the seconds it has",
      "left). NDJSON lines {\"segment\":{...}}, {\"key\":...,\"profile\":{...}} and",
      "{\"key\":...,\"item\":{\"value\":...,\"flags\":...,\"ttl\":...}}, or length-delimited",
      "protobuf LoadRecords. 'whack load' of the output into an empty cluster restores the same",
      "segments, profiles and items (items with a new cas). With --segment, only the members of",
      "a segment query, as profiles. To stdout, or to a file (written aside and moved into place",
      "when complete); gzipped when the file name ends in .gz or with --gzip."
    },
    footer = {
      "",
      "Examples:",
      "  whack dump -o backup.ndjson.gz",
      "  whack dump --segment 'dk_buyers and not churned' > dk.ndjson",
      "  whack dump --format proto -o backup.pb.gz",
      "  whack dump --no-items -o profiles.ndjson.gz",
      "  whack dump --items-only -o cache.ndjson.gz",
      "  whack dump | whack load --servers 10.0.0.9:11211 -     copy a cluster"
    })
final class DumpCommand extends ClientCommand {
  @Option(
      names = "--segment",
      paramLabel = "SEGMENT_EXPR",
      description = "only the members of this segment query")
  String segment;

  @Option(names = "--no-items", description = "leave out opaque items (plain memcached values)")
  boolean noItems;

  @Option(
      names = "--items-only",
      description = "only opaque items: no segment definitions, no profiles")
  boolean itemsOnly;

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
      description = "profiles or items per request (default: ${DEFAULT-VALUE})")
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
    if (itemsOnly && (noItems || query != null)) {
      throw CliException.usage("--items-only goes with neither --no-items nor --segment");
    }
    boolean withProfiles = !itemsOnly;
    boolean withItems = query == null && !noItems;

    Path target = output == null || output.equals("-") ? null : Path.of(output);
    Path partial = target == null ? null : target.resolveSibling(target.getFileName() + ".partial");
    long startNanos = System.nanoTime();
    long profiles;
    long items;
    long skippedItems;
    long bytes;
    try (WhackClient client = connect()) {
      long total = showProgress ? total(client, query, withProfiles, withItems) : -1;
      AtomicLong done = new AtomicLong();
      boolean complete = false;
      Progress bar =
          showProgress
              ? new Progress(err(), "records", done::get, null, -1, () -> total).start()
              : null;
      try (RecordWriter writer =
          RecordWriter.open(partial == null ? null : partial.toString(), out(), f, compress)) {
        if (withProfiles) {
          writeProfiles(client, query, writer, done);
        }
        profiles = writer.records();
        skippedItems = withItems ? writeItems(client, writer, done) : 0;
        items = writer.records() - profiles;
        complete = true;
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
            g.writeNumberField("profiles", profiles);
            g.writeNumberField("items", items);
            g.writeNumberField("items_skipped", skippedItems);
            g.writeNumberField("bytes", bytes);
            g.writeNumberField("seconds", Math.round(seconds * 1000) / 1000.0);
            g.writeEndObject();
          });
    } else if (target != null || terminal().errIsTerminal()) {
      summaryTo.println(
          "dumped "
              + (withProfiles
                  ? Human.count(profiles) + (profiles == 1 ? " profile" : " profiles")
                  : "")
              + (withProfiles && items > 0 ? " and " : "")
              + (items > 0 || !withProfiles
                  ? Human.count(items) + (items == 1 ? " item" : " items")
                  : "")
              + (target == null ? "" : " to " + target)
              + " ("
              + Human.bytes(bytes)
              + ") in "
              + Human.seconds(seconds)
              + (skippedItems == 0
                  ? ""
                  : "; "
                      + Human.count(skippedItems)
                      + " items left out (keys a load cannot send)"));
    }
    return Whack.EXIT_OK;
  }

  /** Segment definitions first (for a whole dump), then the profiles. */
  private void writeProfiles(WhackClient client, String query, RecordWriter writer, AtomicLong done)
      throws IOException {
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
          try (Stream<DumpedProfile> dumped = client.segments().dump(query, page)) {
            Iterator<DumpedProfile> it = dumped.iterator();
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
  }

  /**
   * Every member's opaque items, after the profiles. An item whose key a load could not send (a
   * space or control character, or bytes that are not UTF-8, stored through the binary protocol or
   * a base64 meta key) is left out and named on stderr.
   *
   * @return how many were left out
   */
  private long writeItems(WhackClient client, RecordWriter writer, AtomicLong done)
      throws IOException {
    long skipped = 0;
    try (Stream<DumpedItem> dumped = client.dumpItems(page)) {
      Iterator<DumpedItem> it = dumped.iterator();
      while (it.hasNext()) {
        DumpedItem item = it.next();
        String unfit = unfitKey(item);
        if (unfit != null) {
          skipped++;
          note("left out an item: " + unfit);
          continue;
        }
        writer.item(item.key(), item.value(), item.flags(), item.ttlSeconds());
        done.lazySet(done.get() + 1);
      }
    }
    return skipped;
  }

  /** Why a load could not send the item's key again, or null when it can. */
  private static String unfitKey(DumpedItem item) {
    if (!item.keyIsText()) {
      return "its key is not UTF-8 text: " + item.key();
    }
    try {
      Keys.key(item.key());
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  /** How many records the dump will write, for the progress bar; -1 when unknown. */
  private static long total(
      WhackClient client, String query, boolean withProfiles, boolean withItems) {
    try {
      if (query != null) {
        return client.blocking().segments().count(query);
      }
      long sum = 0;
      for (String s : client.servers()) {
        long profiles = client.blocking().profileCount(s);
        long all = Long.parseLong(client.blocking().stats(s).getOrDefault("curr_items", "0"));
        sum += (withProfiles ? profiles : 0) + (withItems ? all - profiles : 0);
      }
      return sum;
    } catch (RuntimeException e) {
      return -1; // the dump itself will say what is wrong
    }
  }
}
