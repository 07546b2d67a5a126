package dev.whack.cli;

import dev.whack.cli.output.JsonOut;
import dev.whack.cli.output.Table;
import dev.whack.client.BadExpressionException;
import dev.whack.client.DistinctCount;
import dev.whack.client.PartialCount;
import dev.whack.client.SegmentChange;
import dev.whack.client.SegmentDryRun;
import dev.whack.client.SegmentInfo;
import dev.whack.client.SegmentMembership;
import dev.whack.client.Segments;
import dev.whack.client.Watch;
import dev.whack.client.WatchListener;
import dev.whack.client.WhackClient;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code whack segment ...}: define, query and watch segments. */
@Command(
    name = "segment",
    mixinStandardHelpOptions = true,
    description = {
      "Define, drop, list, count and query segments, and watch who enters and leaves them.",
      "Expressions may contain spaces: quote them, or give them as several words."
    },
    subcommands = {
      SegmentCommand.Define.class,
      SegmentCommand.Drop.class,
      SegmentCommand.ListSegments.class,
      SegmentCommand.Count.class,
      SegmentCommand.Distinct.class,
      SegmentCommand.Members.class,
      SegmentCommand.Of.class,
      SegmentCommand.Query.class,
      SegmentCommand.WatchSegments.class
    },
    footer = {
      "",
      "Examples:",
      "  whack segment define dk_buyers 'country == \"DK\" and count(purchase, 30d) >= 3'",
      "  whack segment list",
      "  whack segment count 'dk_buyers and not churned'",
      "  whack segment members dk_buyers --limit 10",
      "  whack segment of user:42",
      "  whack segment query 'age >= 30 and \"vip\" in tags' --count",
      "  whack segment watch dk_buyers churned",
      "",
      "The language is described in docs/segments.md."
    })
final class SegmentCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "name a subcommand: define, drop, list, count, members, of, query, watch");
  }

  /** A rejected expression, with the text it points at. */
  static CliException badExpression(BadExpressionException e, String expression) {
    int at = Math.max(0, Math.min(e.position(), expression.length()));
    String rest = expression.substring(at);
    String message = e.serverMessage();
    if (rest.isEmpty()) {
      // The node's reason may say so already ("... at the end", "... the end of the expression").
      boolean saysWhere =
          message.endsWith("at the end") || message.contains("end of the expression");
      return new CliException(
          Whack.EXIT_FAILED, saysWhere ? message : message + " (at the end)", e);
    }
    String near = rest.length() > 24 ? rest.substring(0, 24) + "..." : rest;
    return new CliException(Whack.EXIT_FAILED, message + " (near '" + near + "')", e);
  }

  /** Runs a call that sends an expression, explaining a rejection. */
  static <T> T withExpression(String expression, Supplier<T> call) {
    try {
      return call.get();
    } catch (BadExpressionException e) {
      throw badExpression(e, expression);
    }
  }

  @Command(
      name = "define",
      mixinStandardHelpOptions = true,
      description = {
        "Define a segment (or replace its definition) on every node; existing profiles are",
        "evaluated first. Prints its size. A bad expression exits 1 with the position and reason,",
        "and nothing is defined.",
        "With --dry-run nothing is defined (no backfill, no change to watchers): prints the size",
        "the segment would have now and a sample of its members, one key per line."
      },
      footer = {
        "",
        "Examples:",
        "  whack segment define dk_vip 'country == \"DK\" and \"vip\" in tags'",
        "  whack segment define active_7d 'last_seen > now() - 7d'",
        "  whack segment define buyers 'count(buy, 30d) >= 3 and sum(buy, 30d) > 100'",
        "  whack segment define --dry-run --sample 3 dk_vip 'country == \"DK\"'"
      })
  static final class Define extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "the segment's name")
    String name;

    @Parameters(
        index = "1..*",
        arity = "1..*",
        paramLabel = "EXPRESSION",
        description = "the filter expression")
    List<String> expression;

    @Option(
        names = "--json",
        description =
            "print {\"name\":...,\"size\":N} (with --dry-run also \"dry_run\":true and"
                + " \"sample\":[keys])")
    boolean json;

    @Option(
        names = "--dry-run",
        description =
            "define nothing: print the size the segment would have now and a sample of its keys")
    boolean dryRun;

    @Option(
        names = "--sample",
        paramLabel = "N",
        description = "with --dry-run: keys to print, 0 to 1000 (default 10)")
    Integer sample;

    @Override
    public Integer call() {
      if (sample != null && !dryRun) {
        throw CliException.usage("--sample goes with --dry-run");
      }
      if (sample != null && (sample < 0 || sample > 1000)) {
        throw CliException.usage("--sample is 0 to 1000, got " + sample);
      }
      String text = String.join(" ", expression);
      if (dryRun) {
        return dryRun(text);
      }
      long size;
      String mismatched;
      try (WhackClient client = connect()) {
        size = withExpression(text, () -> client.blocking().segments().define(name, text));
        mismatched = size == 0 ? comparedWithTextWhereProfilesHaveIt(client, text) : null;
      }
      if (mismatched != null) {
        note(
            "warning: "
                + name
                + " is empty, and it compares "
                + mismatched
                + " with a string while profiles have "
                + mismatched
                + ": a number never equals or orders against a string (docs/segments.md,"
                + " \"Meaning\"); write the number without quotes if that is what "
                + mismatched
                + " holds");
      }
      if (json) {
        JsonOut.print(
            out(),
            g -> {
              g.writeStartObject();
              g.writeStringField("name", name);
              g.writeNumberField("size", size);
              g.writeEndObject();
            });
      } else {
        out().println("defined " + name + ": " + size + (size == 1 ? " profile" : " profiles"));
      }
      return Whack.EXIT_OK;
    }

    /**
     * The first attribute the expression compares with a string literal ({@code age > "30"}) that
     * profiles have, or null: asked when a new segment is empty, where such a comparison against a
     * number is the likely reason (a number never matches a string).
     */
    private static String comparedWithTextWhereProfilesHaveIt(WhackClient client, String text) {
      java.util.regex.Matcher m = COMPARED_WITH_TEXT.matcher(text);
      while (m.find()) {
        String attribute = m.group(1);
        try {
          if (client.blocking().segments().filterCount("exists(" + attribute + ")") > 0) {
            return attribute;
          }
        } catch (RuntimeException e) {
          return null; // only a hint: a name the filter language takes otherwise is left alone
        }
      }
      return null;
    }

    private static final java.util.regex.Pattern COMPARED_WITH_TEXT =
        java.util.regex.Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)\\s*(?:==|!=|<=|>=|<|>)\\s*\"");

    /** "would define NAME: N profiles (dry run: nothing defined)", then the sample's keys. */
    private int dryRun(String text) {
      int keys = sample == null ? Segments.DEFAULT_SAMPLE : sample;
      SegmentDryRun result;
      try (WhackClient client = connect()) {
        result = withExpression(text, () -> client.blocking().segments().dryRun(name, text, keys));
      }
      if (json) {
        JsonOut.print(
            out(),
            g -> {
              g.writeStartObject();
              g.writeStringField("name", name);
              g.writeBooleanField("dry_run", true);
              g.writeNumberField("size", result.count());
              g.writeArrayFieldStart("sample");
              for (String key : result.sample()) {
                g.writeString(key);
              }
              g.writeEndArray();
              g.writeEndObject();
            });
        return Whack.EXIT_OK;
      }
      long size = result.count();
      out()
          .println(
              "would define "
                  + name
                  + ": "
                  + size
                  + (size == 1 ? " profile" : " profiles")
                  + " (dry run: nothing defined)");
      printKeys(out(), false, result.sample().stream());
      return Whack.EXIT_OK;
    }
  }

  @Command(
      name = "drop",
      mixinStandardHelpOptions = true,
      description =
          "Drop a segment on every node. An unknown segment exits 1. A segment that other"
              + " segments read (in_segment) is dropped only with --force, which drops them too.",
      footer = {"", "Examples:", "  whack segment drop dk_vip", "  whack segment drop vip --force"})
  static final class Drop extends ClientCommand {
    @Parameters(paramLabel = "NAME", description = "the segment's name")
    String name;

    @Option(
        names = "--force",
        description = "also drop the segments that read it with in_segment, directly or not")
    boolean force;

    @Override
    public Integer call() {
      boolean dropped;
      try (WhackClient client = connect()) {
        dropped = client.blocking().segments().drop(name, force);
      }
      if (!dropped) {
        throw CliException.failed("no segment " + name);
      }
      out().println("dropped " + name);
      return Whack.EXIT_OK;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List the segments: name, size over the cluster, expression.",
      footer = {
        "",
        "Examples:",
        "  whack segment list",
        "  whack segment list --json | jq -r '.[] | select(.size > 1000) | .name'"
      })
  static final class ListSegments extends ClientCommand {
    @Option(
        names = "--json",
        description = "print [{\"name\":...,\"size\":N,\"expression\":...}, ...]")
    boolean json;

    @Override
    public Integer call() {
      List<SegmentInfo> segments;
      try (WhackClient client = connect()) {
        segments = client.blocking().segments().list();
      }
      if (json) {
        JsonOut.print(
            out(),
            g -> {
              g.writeStartArray();
              for (SegmentInfo s : segments) {
                g.writeStartObject();
                g.writeStringField("name", s.name());
                g.writeNumberField("size", s.size());
                g.writeStringField("expression", s.expression());
                g.writeEndObject();
              }
              g.writeEndArray();
            });
        return Whack.EXIT_OK;
      }
      Table table = new Table("NAME", ">SIZE", "EXPRESSION");
      for (SegmentInfo s : segments) {
        table.row(s.name(), s.size(), s.expression());
      }
      table.print(out());
      return Whack.EXIT_OK;
    }
  }

  @Command(
      name = "count",
      mixinStandardHelpOptions = true,
      description = {
        "Print the size of a segment or of a segment query (and, or, not, xor, parentheses over",
        "segment names), the number alone."
      },
      footer = {
        "",
        "Examples:",
        "  whack segment count dk_buyers",
        "  whack segment count 'dk_buyers and not churned'",
        "  whack segment count '(nordic or dk_vip) xor active_7d'",
        "  whack segment count dk_buyers --partial   count what answers, and say what did not"
      })
  static final class Count extends ClientCommand {
    @Parameters(
        arity = "1..*",
        paramLabel = "SEGMENT_EXPR",
        description = "a segment or a segment query")
    List<String> query;

    @Option(names = "--json", description = "print {\"query\":...,\"count\":N}")
    boolean json;

    @Option(
        names = "--partial",
        description =
            "when a node cannot answer, count the rest and name what is missing (on stderr, or"
                + " \"missing\" in --json) instead of failing")
    boolean partial;

    @Override
    public Integer call() {
      String text = String.join(" ", query);
      try (WhackClient client = connect()) {
        if (partial) {
          printPartial(
              out(),
              err(),
              json,
              text,
              withExpression(text, () -> client.blocking().segments().countPartial(text)));
        } else {
          printCount(
              out(),
              json,
              text,
              withExpression(text, () -> client.blocking().segments().count(text)));
        }
      }
      return Whack.EXIT_OK;
    }
  }

  @Command(
      name = "distinct",
      mixinStandardHelpOptions = true,
      description = {
        "Print how many distinct values NAME has across the members of a segment or segment",
        "query: NAME is a distinct dimension (its name, or event.property), counted over the",
        "--window, or an attribute, counted now. Exact while the values fit the exact sets, else",
        "an estimate (docs/profiles.md, \"Distinct counts\"), marked \"~\"."
      },
      footer = {
        "",
        "Examples:",
        "  whack segment distinct dk_buyers view.product --window 30d",
        "  whack segment distinct 'dk_buyers and not churned' products",
        "  whack segment distinct vip country            distinct countries of vip members"
      })
  static final class Distinct extends ClientCommand {
    @Parameters(index = "0", paramLabel = "SEGMENT_EXPR", description = "a segment or query")
    String query;

    @Parameters(
        index = "1",
        paramLabel = "NAME",
        description = "a distinct dimension (or event.property), or an attribute")
    String name;

    @Option(
        names = "--window",
        paramLabel = "DAYS",
        description = "days of a distinct dimension counted, like 30d (default: the retention)")
    String window;

    @Option(names = "--json", description = "print {\"query\":...,\"count\":N,\"exact\":B}")
    boolean json;

    @Override
    public Integer call() {
      int days = 0;
      if (window != null) {
        String w = window.endsWith("d") ? window.substring(0, window.length() - 1) : window;
        try {
          days = Integer.parseInt(w);
        } catch (NumberFormatException e) {
          days = -1;
        }
        if (days < 1) {
          throw new CliException(
              Whack.EXIT_USAGE, "--window is a number of days like 30d, not " + window);
        }
      }
      int windowDays = days;
      try (WhackClient client = connect()) {
        DistinctCount n =
            withExpression(
                query, () -> client.blocking().segments().distinct(query, name, windowDays));
        if (json) {
          JsonOut.print(
              out(),
              g -> {
                g.writeStartObject();
                g.writeStringField("query", query);
                g.writeNumberField("count", n.count());
                g.writeBooleanField("exact", n.exact());
                g.writeEndObject();
              });
        } else {
          out().println((n.exact() ? "" : "~") + n.count());
        }
      }
      return Whack.EXIT_OK;
    }
  }

  static void printCount(PrintStream out, boolean json, String query, long count) {
    if (json) {
      JsonOut.print(
          out,
          g -> {
            g.writeStartObject();
            g.writeStringField("query", query);
            g.writeNumberField("count", count);
            g.writeEndObject();
          });
    } else {
      out.println(count);
    }
  }

  /** A partial count: the number, and each part that did not answer with why. */
  static void printPartial(
      PrintStream out, PrintStream err, boolean json, String query, PartialCount count) {
    if (json) {
      JsonOut.print(
          out,
          g -> {
            g.writeStartObject();
            g.writeStringField("query", query);
            g.writeNumberField("count", count.count());
            g.writeObjectFieldStart("missing");
            for (Map.Entry<String, String> part : new TreeMap<>(count.missing()).entrySet()) {
              g.writeStringField(part.getKey(), part.getValue());
            }
            g.writeEndObject();
            g.writeEndObject();
          });
      return;
    }
    out.println(count.count());
    new TreeMap<>(count.missing())
        .forEach(
            (part, why) -> err.println("whack: partial count: " + part + " is left out: " + why));
  }

  /** Prints keys one per line (or a JSON array) as they are paged in. */
  static void printKeys(PrintStream out, boolean json, Stream<String> keys) {
    if (!json) {
      keys.forEachOrdered(out::println);
      out.flush();
      return;
    }
    out.print('[');
    boolean[] first = {true};
    keys.forEachOrdered(
        k -> {
          if (!first[0]) {
            out.print(',');
          }
          first[0] = false;
          out.print(JsonOut.string(k));
        });
    out.println(']');
    out.flush();
  }

  @Command(
      name = "members",
      mixinStandardHelpOptions = true,
      description = {
        "Print the members of a segment or a segment query, one key per line, node after node,",
        "paged as they are printed."
      },
      footer = {
        "",
        "Examples:",
        "  whack segment members dk_buyers",
        "  whack segment members 'dk_buyers and not churned' --limit 100",
        "  whack segment members churned | xargs -n1 whack get"
      })
  static final class Members extends ClientCommand {
    @Parameters(
        arity = "1..*",
        paramLabel = "SEGMENT_EXPR",
        description = "a segment or a segment query")
    List<String> query;

    @Option(names = "--limit", paramLabel = "N", description = "print at most N keys")
    Integer limit;

    @Option(names = "--json", description = "print a JSON array of keys")
    boolean json;

    @Override
    public Integer call() {
      if (limit != null && limit < 1) {
        throw CliException.usage("--limit is at least 1, got " + limit);
      }
      String text = String.join(" ", query);
      try (WhackClient client = connect()) {
        withExpression(
            text,
            () -> {
              Stream<String> keys = client.blocking().segments().members(text);
              printKeys(out(), json, limit == null ? keys : keys.limit(limit));
              return null;
            });
      }
      return Whack.EXIT_OK;
    }
  }

  @Command(
      name = "of",
      mixinStandardHelpOptions = true,
      description = {
        "Print the segments a profile is in, one per line with the time the profile entered it",
        "(ISO-8601 UTC, to the second), tab-separated; nothing if it is in none.",
        "A missing profile exits 1."
      },
      footer = {
        "",
        "Examples:",
        "  whack segment of user:42                  # dk_vip<TAB>2026-11-20T10:00:00Z",
        "  whack segment of user:42 --json           # [{\"segment\":\"dk_vip\",\"entered\":...}]",
        "  whack segment of user:42 --names | grep -qx dk_vip && echo VIP"
      })
  static final class Of extends ClientCommand {
    @Parameters(paramLabel = "KEY", description = "the profile's key")
    String key;

    @Option(
        names = "--json",
        description =
            "print a JSON array of {\"segment\", \"entered\"} objects (with --names: of names)")
    boolean json;

    @Option(names = "--names", description = "print the segment names only")
    boolean names;

    @Override
    public Integer call() {
      List<SegmentMembership> memberships;
      try (WhackClient client = connect()) {
        memberships = client.blocking().segments().ofSince(key);
        if (memberships.isEmpty() && client.blocking().get(key).isEmpty()) {
          throw CliException.failed("no profile " + key);
        }
      }
      if (names) {
        printKeys(out(), json, memberships.stream().map(SegmentMembership::segment));
        return Whack.EXIT_OK;
      }
      PrintStream out = out();
      if (json) {
        StringBuilder b = new StringBuilder("[");
        for (SegmentMembership m : memberships) {
          b.append(b.length() > 1 ? "," : "")
              .append("{\"segment\":")
              .append(JsonOut.string(m.segment()))
              .append(",\"entered\":")
              .append(JsonOut.string(m.entered().toString()))
              .append('}');
        }
        out.println(b.append(']'));
      } else {
        for (SegmentMembership m : memberships) {
          out.println(m.segment() + "\t" + m.entered());
        }
      }
      out.flush();
      return Whack.EXIT_OK;
    }
  }

  @Command(
      name = "query",
      mixinStandardHelpOptions = true,
      description = {
        "Evaluate an ad-hoc filter expression over every profile (no segment needed) and print",
        "the matching keys one per line, or with --count their number."
      },
      footer = {
        "",
        "Examples:",
        "  whack segment query 'age >= 30 and \"vip\" in tags' --limit 20",
        "  whack segment query 'count(purchase, 7d) == 0 and cart_items > 3' --count"
      })
  static final class Query extends ClientCommand {
    @Parameters(arity = "1..*", paramLabel = "FILTER", description = "a filter expression")
    List<String> filter;

    @Option(names = "--count", description = "print the number of matching profiles alone")
    boolean count;

    @Option(names = "--limit", paramLabel = "N", description = "print at most N keys")
    Integer limit;

    @Option(
        names = "--partial",
        description =
            "with --count: count what answers and name what is missing (as segment count)")
    boolean partial;

    @Option(
        names = "--json",
        description = "print a JSON array of keys, or {\"query\":...,\"count\":N}")
    boolean json;

    @Override
    public Integer call() {
      if (limit != null && limit < 1) {
        throw CliException.usage("--limit is at least 1, got " + limit);
      }
      if (partial && !count) {
        throw CliException.usage("--partial goes with --count: a listing is never partial");
      }
      String text = String.join(" ", filter);
      try (WhackClient client = connect()) {
        withExpression(
            text,
            () -> {
              if (count && partial) {
                printPartial(
                    out(),
                    err(),
                    json,
                    text,
                    client.blocking().segments().filterCountPartial(text));
              } else if (count) {
                printCount(out(), json, text, client.blocking().segments().filterCount(text));
              } else {
                Stream<String> keys = client.blocking().segments().filterMembers(text);
                printKeys(out(), json, limit == null ? keys : keys.limit(limit));
              }
              return null;
            });
      }
      return Whack.EXIT_OK;
    }
  }

  @Command(
      name = "watch",
      mixinStandardHelpOptions = true,
      description = {
        "Print enter/leave changes of the named segments as they happen, one per line:",
        "TIME enter|leave SEGMENT KEY. Runs until interrupted (Ctrl-C), --count changes or --for",
        "a duration. Changes a slow reader missed are reported on stderr."
      },
      footer = {
        "",
        "Examples:",
        "  whack segment watch dk_buyers churned",
        "  whack segment watch dk_buyers --json | jq -c 'select(.change == \"enter\")'",
        "  whack segment watch vip --count 1 --for 30s     wait for the next entry, at most 30 s"
      })
  static final class WatchSegments extends ClientCommand {
    @Parameters(arity = "1..*", paramLabel = "NAME", description = "segments to watch")
    List<String> names;

    @Option(names = "--count", paramLabel = "N", description = "stop after N changes")
    Long count;

    @Option(
        names = "--for",
        paramLabel = "DURATION",
        converter = ClientOptions.DurationConverter.class,
        description = "stop after this long, e.g. 30s, 5m")
    Duration duration;

    @Option(names = "--json", description = "print one JSON object per change")
    boolean json;

    @Override
    public Integer call() throws InterruptedException {
      if (count != null && count < 1) {
        throw CliException.usage("--count is at least 1, got " + count);
      }
      PrintStream out = out();
      CountDownLatch done = new CountDownLatch(1);
      AtomicLong seen = new AtomicLong();
      WatchListener listener =
          new WatchListener() {
            @Override
            public void onChange(SegmentChange c) {
              if (done.getCount() == 0) {
                return;
              }
              String kind = c.kind().name().toLowerCase(Locale.ROOT);
              if (json) {
                JsonOut.print(
                    out,
                    g -> {
                      g.writeStartObject();
                      g.writeStringField("change", kind);
                      g.writeStringField("segment", c.segment());
                      g.writeStringField("key", c.key());
                      g.writeStringField("time", c.time().toString());
                      g.writeStringField("node", c.node());
                      g.writeEndObject();
                    });
              } else {
                out.println(c.time() + " " + kind + " " + c.segment() + " " + c.key());
                out.flush();
              }
              if (count != null && seen.incrementAndGet() >= count) {
                done.countDown();
              }
            }

            @Override
            public void onMissed(String node, long missed) {
              note("missed " + missed + " changes from " + node + " (reading too slowly)");
            }

            @Override
            public void onDisconnected(String node, Throwable cause) {
              note("lost the watch on " + node + ", reconnecting: " + cause.getMessage());
            }

            @Override
            public void onReconnected(String node) {
              note("watching " + node + " again (changes meanwhile were not seen)");
            }
          };
      Thread stopper = new Thread(done::countDown, "whack-watch-stop");
      boolean hooked = false;
      try (WhackClient client = connect();
          Watch watch = client.blocking().segments().watch(names, listener)) {
        try {
          Runtime.getRuntime().addShutdownHook(stopper);
          hooked = true;
        } catch (IllegalStateException shuttingDown) {
          return Whack.EXIT_OK;
        }
        if (terminal().errIsTerminal()) {
          note("watching " + String.join(", ", watch.segments()) + " (Ctrl-C to stop)");
        }
        if (duration == null) {
          done.await();
        } else {
          done.await(duration.toMillis(), TimeUnit.MILLISECONDS);
        }
      } finally {
        if (hooked) {
          try {
            Runtime.getRuntime().removeShutdownHook(stopper);
          } catch (IllegalStateException shuttingDown) {
            // the hook is running: it ended the wait
          }
        }
      }
      return Whack.EXIT_OK;
    }
  }
}
