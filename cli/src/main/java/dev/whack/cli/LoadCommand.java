package dev.whack.cli;

import dev.whack.cli.load.Loader;
import dev.whack.cli.output.Human;
import dev.whack.cli.output.JsonOut;
import dev.whack.cli.output.Progress;
import dev.whack.cli.records.Input;
import dev.whack.cli.records.RecordFormat;
import dev.whack.client.WhackClient;
import dev.whack.client.grpc.GrpcBulkWriter;
import dev.whack.client.transport.NodeAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whack load FILE...}: bulk load of profile, update, item and segment records. */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    description = {
      "Load records into the cluster: NDJSON or length-delimited protobuf (LoadRecord), gzipped or",
      "not (both recognised from the data). Records are routed to their owners and pipelined;",
      "each key's records are applied in the order of the stream, so a stream may mix whole",
      "profiles and updates (a snapshot followed by an event log). Opaque items (plain",
      "memcached values, as 'whack dump' writes them) are stored with set, with their flags",
      "and the time to live they had left when dumped.",
      "",
      "A bad record is reported with its line (NDJSON) or byte offset (protobuf) and reason.",
      "Without --skip-bad the load stops there (exit 1): nothing of the bad record is applied,",
      "and nothing after it is sent (only records already in flight, at most --in-flight, when",
      "it is the node that rejects it; the message says how many; --validate avoids that).",
      "With --skip-bad it is skipped and counted. Reports come on stderr in input order when",
      "the load ends (the first 100; the rest are counted).",
      "",
      "With --grpc HOST:PORT the records go to that node's gRPC port (docs/grpc.md)",
      "instead, on one Ingest stream in order: profiles and updates only (an item or",
      "segment record is a bad record), profiles stored as protobuf, a record the",
      "node refuses reported with its gRPC code; --timeout is how long the node may",
      "leave the stream unanswered. --tls and the --tls-* options speak TLS to that port.",
      "",
      "A progress bar with rate and ETA is drawn on stderr when it is a terminal; the summary",
      "(records, bytes, seconds, rate) is printed when done. A member that evicted items",
      "while the load ran (its --memory cap is full, so some of what was just loaded may",
      "be gone) is named in a warning on stderr, and the summary counts the evictions."
    },
    footer = {
      "",
      "Record forms (docs/profiles.md):",
      "  {\"key\": \"user:42\", \"profile\": {\"country\": \"DK\", \"age\": 31}}     replaces the profile",
      "  {\"key\": \"user:42\", \"update\": {\"incr\": {\"visits\": 1}}}            applied like 'whack update'",
      "  {\"key\": \"page:7\", \"item\": {\"value\": \"aGk=\", \"flags\": 0, \"ttl\": 60}}   set, value in base64",
      "",
      "Examples:",
      "  whack load profiles.ndjson",
      "  whack load backup.ndjson.gz events-*.ndjson.gz",
      "  whack load --skip-bad dirty.ndjson",
      "  whack dump | whack load --servers 10.0.0.9:11211 -     copy a cluster",
      "  whack load --grpc 10.0.0.9:9090 events.ndjson.gz      via gRPC",
      "  whack load --dry-run --validate profiles.pb            check a file, send nothing"
    })
final class LoadCommand extends ClientCommand {
  /** Records per Ingest request with --grpc, and requests on their way at once. */
  private static final int GRPC_BATCH = 256;

  private static final int GRPC_REQUESTS_IN_FLIGHT = 16;

  /** Bad records shown one per line; past this they are only counted. */
  private static final int MAX_REPORTED = 100;

  @Parameters(arity = "1..*", paramLabel = "FILE", description = "record files; - for stdin")
  List<String> files;

  @Option(
      names = "--skip-bad",
      description = "skip bad records (counted) instead of stopping at the first")
  boolean skipBad;

  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      description = "auto, ndjson or proto (default: ${DEFAULT-VALUE}: recognised from the data)")
  String format = "auto";

  @Option(
      names = "--store-as",
      paramLabel = "ENCODING",
      description = {
        "how profiles are stored: json, proto, or as-read (no conversion)",
        "(default: json, what memcached clients of JSON profiles read back; with --grpc, proto)"
      })
  String storeAs;

  @Option(
      names = "--grpc",
      paramLabel = "HOST:PORT",
      description = "send to this node's gRPC port (its Ingest stream), not the memcached port")
  String grpc;

  @Option(
      names = "--validate",
      description = "parse every record here, with the node's parser, before sending it")
  boolean validate;

  @Option(names = "--dry-run", description = "read and check the records, send nothing")
  boolean dryRun;

  @Option(
      names = "--in-flight",
      paramLabel = "N",
      description = "writes in flight at most (default: ${DEFAULT-VALUE})")
  int inFlight = 8192;

  @Option(
      names = "--connections",
      paramLabel = "N",
      description = "connections per node (default: ${DEFAULT-VALUE}; not with --grpc)")
  int connections = 2;

  @Option(
      names = "--progress",
      paramLabel = "WHEN",
      description = "auto (when stderr is a terminal), always or never (default: ${DEFAULT-VALUE})")
  String progress = "auto";

  @Option(names = "--json", description = "print the summary as JSON")
  boolean json;

  @Override
  public Integer call() throws IOException {
    RecordFormat forced = parseFormat(format);
    boolean overGrpc = grpc != null;
    if (overGrpc) {
      for (String memcachedOnly : List.of("--servers", "--connections")) {
        if (spec.commandLine().getParseResult().hasMatchedOption(memcachedOnly)) {
          throw CliException.usage(
              memcachedOnly + " is for the memcached port; --grpc names the one node to send to");
        }
      }
      try {
        NodeAddress.parse(grpc);
      } catch (IllegalArgumentException e) {
        throw CliException.usage("--grpc: " + e.getMessage());
      }
    }
    Loader.StoreAs store = parseStoreAs(storeAs, overGrpc);
    if (inFlight < 1 || inFlight > 1_000_000) {
      throw CliException.usage("--in-flight is 1 to 1000000, got " + inFlight);
    }
    if (connections < 1 || connections > 64) {
      throw CliException.usage("--connections is 1 to 64, got " + connections);
    }
    long totalBytes = 0;
    for (String f : files) {
      if (f.equals("-")) {
        totalBytes = -1;
        continue;
      }
      Path p = Path.of(f);
      if (!Files.isRegularFile(p) && !Files.isReadable(p)) {
        throw CliException.usage(f + ": no such file");
      }
      if (totalBytes >= 0) {
        totalBytes += Files.size(p);
      }
    }
    if (!List.of("auto", "always", "never").contains(progress)) {
      throw CliException.usage("--progress is auto, always or never, got " + progress);
    }
    boolean showProgress =
        progress.equals("always") || (progress.equals("auto") && terminal().errIsTerminal());

    WhackClient client =
        dryRun || overGrpc
            ? null
            : cluster.connect(
                terminal(),
                b ->
                    b.connectionsPerNode(connections)
                        .maxInFlightPerConnection(inFlight + 64)
                        .ioThreads(2));
    GrpcBulkWriter writer = null;
    List<Input> inputs = new ArrayList<>();
    try {
      if (overGrpc && !dryRun) {
        // Unreachable or refused credentials: exit 3 before reading anything.
        GrpcBulkWriter.Builder grpcWriter = GrpcBulkWriter.builder(grpc).tls(cluster.tls());
        String[] credentials = cluster.credentials(terminal());
        if (credentials != null) {
          try {
            grpcWriter.credentials(credentials[0], credentials[1]);
          } catch (IllegalArgumentException e) {
            throw CliException.usage("--user: " + e.getMessage());
          }
        }
        writer =
            grpcWriter
                .maxInFlight(inFlight)
                // Records come faster than answers: a few large requests cost less per record.
                .batching(GRPC_BATCH, GRPC_REQUESTS_IN_FLIGHT)
                .connectTimeout(cluster.connectTimeout)
                .answerTimeout(cluster.timeout)
                .open();
      }
      Map<String, Long> evictedBefore = new LinkedHashMap<>();
      if (client != null) {
        for (String server : client.servers()) {
          client.blocking().version(server); // unreachable: exit 3 before reading anything
        }
        if (!dryRun) {
          evictedBefore = evictions(client);
        }
      }
      for (String f : files) {
        inputs.add(Input.open(f, terminal().in(), forced));
      }
      BadRecords bad = new BadRecords();
      Loader.Reporter reporter = bad::add;
      Loader.Settings settings =
          new Loader.Settings(inFlight, skipBad, store, validate, dryRun, overGrpc);
      Loader loader =
          overGrpc
              ? new Loader(writer, settings, reporter)
              : new Loader(client, settings, reporter);
      Loader.Summary summary;
      long total = totalBytes;
      Progress bar =
          showProgress
              ? new Progress(err(), "records", loader::records, loader::bytesRead, total, null)
                  .start()
              : null;
      try {
        summary = loader.run(inputs);
      } finally {
        if (bar != null) {
          bar.close();
        }
      }
      bad.print();
      long evicted = -1;
      if (!evictedBefore.isEmpty()) {
        evicted = warnOfEvictions(client, evictedBefore);
      }
      printSummary(summary, evicted);
      return finish(summary);
    } finally {
      for (Input in : inputs) {
        in.close();
      }
      if (client != null) {
        client.close();
      }
      if (writer != null) {
        writer.close();
      }
    }
  }

  private int finish(Loader.Summary s) {
    if (s.stop() == null) {
      return Whack.EXIT_OK;
    }
    switch (s.stop()) {
      case Loader.StoppedAtBadRecord bad ->
          throw CliException.failed(
              "stopped at the bad record at "
                  + bad.input()
                  + ": "
                  + bad.where()
                  + "; the records before it were applied"
                  + (bad.sentAfter() > 0
                      ? ", and " + bad.sentAfter() + " after it that were already in flight"
                      : "")
                  + " (--skip-bad goes on past bad records)");
      case Loader.StoppedUnreachable u -> throw u.cause();
      case Loader.StoppedByError e -> throw e.cause();
    }
  }

  /**
   * The bad records' reports, printed in input order once the load ends (node refusals arrive as
   * nodes answer, out of that order): the first {@link #MAX_REPORTED} in input order, then how many
   * more were counted. Bounded: it keeps at most that many.
   */
  private final class BadRecords {
    private final java.util.TreeMap<Long, String> first = new java.util.TreeMap<>();
    private long count;

    synchronized void add(long ordinal, String input, String where, String reason) {
      count++;
      first.put(ordinal, input + ": " + where + ": " + reason);
      if (first.size() > MAX_REPORTED) {
        first.pollLastEntry();
      }
    }

    synchronized void print() {
      first.values().forEach(LoadCommand.this::note);
      if (count > first.size()) {
        note(Human.count(count - first.size()) + " more bad records: counted, not shown");
      }
    }
  }

  /** Each member's {@code evictions} and memory cap ({@code limit_maxbytes}), from its stats. */
  private static Map<String, Long> evictions(WhackClient client) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String server : client.servers()) {
      Map<String, String> stats = client.blocking().stats(server);
      out.put(server, Long.parseLong(stats.getOrDefault("evictions", "0")));
    }
    return out;
  }

  /**
   * Warns, per member, of the items it evicted while the load ran (its memory cap was reached, so
   * some of what was just loaded, or what it held before, is gone), naming the flag that raises the
   * cap; returns how many in all. Other clients' writes during the load count too: the warning says
   * "while loading", not "of the loaded records".
   */
  private long warnOfEvictions(WhackClient client, Map<String, Long> before) {
    long total = 0;
    for (Map.Entry<String, Long> e : before.entrySet()) {
      Map<String, String> stats;
      try {
        stats = client.blocking().stats(e.getKey());
      } catch (RuntimeException unreachable) {
        continue; // the summary and the exit code tell of a member lost during the load
      }
      long evicted = Long.parseLong(stats.getOrDefault("evictions", "0")) - e.getValue();
      if (evicted <= 0) {
        continue;
      }
      total += evicted;
      note(
          "warning: "
              + e.getKey()
              + " evicted "
              + Human.count(evicted)
              + (evicted == 1 ? " item" : " items")
              + " while loading: its memory cap ("
              + Human.bytes(Long.parseLong(stats.getOrDefault("limit_maxbytes", "0")))
              + ") is full, so some of what was just loaded may be gone already; start it with a"
              + " larger --memory");
    }
    return total;
  }

  private void printSummary(Loader.Summary s, long evicted) {
    if (json) {
      JsonOut.print(
          out(),
          g -> {
            g.writeStartObject();
            g.writeNumberField("records", s.read());
            g.writeNumberField("sent", s.sent());
            g.writeNumberField("applied", s.applied());
            g.writeNumberField("profiles", s.profiles());
            g.writeNumberField("updates", s.updates());
            g.writeNumberField("items", s.items());
            g.writeNumberField("segments", s.segments());
            g.writeNumberField("ignored", s.ignored());
            g.writeNumberField("skipped", s.skipped());
            g.writeNumberField("bytes", s.bytes());
            g.writeNumberField("seconds", Math.round(s.seconds() * 1000) / 1000.0);
            g.writeNumberField("records_per_s", Math.round(s.recordsPerSecond()));
            g.writeBooleanField("complete", s.stop() == null);
            if (evicted >= 0) { // measured: over the memcached port, not a dry run
              g.writeNumberField("evicted", evicted);
            }
            g.writeEndObject();
          });
      return;
    }
    StringBuilder b = new StringBuilder(dryRun ? "checked " : "loaded ");
    long n = dryRun ? s.read() - s.skipped() : s.applied();
    b.append(Human.count(n)).append(n == 1 ? " record" : " records");
    if (!dryRun) {
      b.append(" (")
          .append(Human.count(s.profiles()))
          .append(" profiles, ")
          .append(Human.count(s.updates()))
          .append(" updates")
          .append(s.items() == 0 ? "" : ", " + Human.count(s.items()) + " items")
          .append(
              s.segments() == 0
                  ? ""
                  : ", "
                      + Human.count(s.segments())
                      + (s.segments() == 1 ? " segment" : " segments"));
      if (s.ignored() > 0) {
        b.append(", ").append(Human.count(s.ignored())).append(" already applied");
      }
      b.append(')');
    }
    b.append(" from ")
        .append(Human.bytes(s.bytes()))
        .append(" in ")
        .append(Human.seconds(s.seconds()));
    double rate = dryRun ? (s.seconds() <= 0 ? 0 : s.read() / s.seconds()) : s.recordsPerSecond();
    b.append(": ").append(Human.rate(rate)).append(" records/s");
    if (s.seconds() > 0) {
      b.append(", ").append(Human.bytes((long) (s.bytes() / s.seconds()))).append("/s");
    }
    if (s.skipped() > 0) {
      b.append("; ").append(Human.count(s.skipped())).append(" bad skipped");
    }
    if (evicted > 0) {
      b.append("; ").append(Human.count(evicted)).append(" evicted while loading (see above)");
    }
    out().println(b);
  }

  static RecordFormat parseFormat(String f) {
    return switch (f.toLowerCase(java.util.Locale.ROOT)) {
      case "auto" -> null;
      case "ndjson", "json", "jsonl" -> RecordFormat.NDJSON;
      case "proto", "protobuf", "pb" -> RecordFormat.PROTO;
      default -> throw CliException.usage("--format is auto, ndjson or proto, got " + f);
    };
  }

  private static Loader.StoreAs parseStoreAs(String s, boolean overGrpc) {
    if (s == null) {
      return overGrpc ? Loader.StoreAs.PROTO : Loader.StoreAs.JSON;
    }
    Loader.StoreAs as =
        switch (s.toLowerCase(java.util.Locale.ROOT)) {
          case "json" -> Loader.StoreAs.JSON;
          case "proto", "protobuf" -> Loader.StoreAs.PROTO;
          case "as-read", "as_read" -> Loader.StoreAs.AS_READ;
          default -> throw CliException.usage("--store-as is json, proto or as-read, got " + s);
        };
    if (overGrpc && as != Loader.StoreAs.PROTO) {
      throw CliException.usage(
          "--store-as "
              + s
              + " needs the memcached port: --grpc stores profiles as protobuf (an Ingest item"
              + " is a Profile message)");
    }
    return as;
  }
}
