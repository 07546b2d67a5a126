package dev.whack.cli;

import dev.whack.cli.output.Human;
import dev.whack.cli.output.JsonOut;
import dev.whack.cli.output.Table;
import dev.whack.client.WhackClient;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code whack stats}: every member's statistics and the totals. */
@Command(
    name = "stats",
    mixinStandardHelpOptions = true,
    description = {
      "Print each member's statistics (memcached's 'stats', plus its profile count) and the",
      "cluster's totals, as a table. Exits 1 if some member did not answer, 3 if none did."
    },
    footer = {
      "",
      "Columns: items (profiles and opaque values), profiles, memory used and its cap,",
      "connections, gets and their hit ratio, sets, evictions.",
      "",
      "Examples:",
      "  whack stats",
      "  whack stats --all                 every statistic, one row each, a column per member",
      "  whack stats --json | jq .totals.curr_items"
    })
final class StatsCommand extends ClientCommand {
  /** Statistics that add up over the members; the others (pid, version...) do not. */
  private static final Set<String> NOT_SUMMED =
      Set.of(
          "pid",
          "uptime",
          "time",
          "version",
          "pointer_size",
          "max_connections",
          "threads",
          "libevent",
          // counted per node by NodeReport and totalled last
          "profiles");

  @Option(names = "--all", description = "every statistic, not only the usual ones")
  boolean all;

  @Option(names = "--json", description = "print {\"servers\":[...],\"totals\":{...}}")
  boolean json;

  @Override
  public Integer call() {
    List<NodeReport> reports;
    try (WhackClient client = connect()) {
      reports =
          NodeReport.ask(client, cluster.timeout.toMillis() + cluster.connectTimeout.toMillis());
    }
    Map<String, Long> totals = totals(reports);
    if (json) {
      printJson(reports, totals);
    } else if (all) {
      printAll(reports, totals);
    } else {
      printTable(reports, totals);
    }
    for (NodeReport r : reports) {
      if (!r.up()) {
        note(r.server() + " is down: " + r.reason());
      }
    }
    return NodeReport.exitCode(reports);
  }

  private static Map<String, Long> totals(List<NodeReport> reports) {
    Map<String, Long> totals = new LinkedHashMap<>();
    long profiles = 0;
    for (NodeReport r : reports) {
      if (!r.up()) {
        continue;
      }
      profiles += r.profiles();
      for (Map.Entry<String, String> e : r.stats().entrySet()) {
        if (NOT_SUMMED.contains(e.getKey())) {
          continue;
        }
        try {
          totals.merge(e.getKey(), Long.parseLong(e.getValue()), Long::sum);
        } catch (NumberFormatException notAnInteger) {
          // rusage and the like: not summed
        }
      }
    }
    totals.put("profiles", profiles);
    return totals;
  }

  private void printTable(List<NodeReport> reports, Map<String, Long> totals) {
    Table table =
        new Table(
            "SERVER",
            "STATUS",
            ">UPTIME",
            ">ITEMS",
            ">PROFILES",
            ">MEMORY",
            ">CONNS",
            ">GETS",
            ">HIT%",
            ">SETS",
            ">EVICTIONS");
    for (NodeReport r : reports) {
      if (!r.up()) {
        table.row(r.server(), "down", "-", "-", "-", "-", "-", "-", "-", "-", "-");
        continue;
      }
      table.row(
          r.server(),
          "up",
          Human.uptime(r.stat("uptime")),
          r.stat("curr_items"),
          r.profiles(),
          memory(r.stat("bytes"), r.stat("limit_maxbytes")),
          r.stat("curr_connections"),
          r.stat("cmd_get"),
          hitRatio(r.stat("get_hits"), r.stat("get_misses")),
          r.stat("cmd_set"),
          r.stat("evictions"));
    }
    long up = reports.stream().filter(NodeReport::up).count();
    table.rule();
    table.row(
        "total",
        up + "/" + reports.size() + " up",
        "",
        totals.getOrDefault("curr_items", 0L),
        totals.get("profiles"),
        memory(totals.getOrDefault("bytes", 0L), totals.getOrDefault("limit_maxbytes", 0L)),
        totals.getOrDefault("curr_connections", 0L),
        totals.getOrDefault("cmd_get", 0L),
        hitRatio(totals.getOrDefault("get_hits", 0L), totals.getOrDefault("get_misses", 0L)),
        totals.getOrDefault("cmd_set", 0L),
        totals.getOrDefault("evictions", 0L));
    table.print(out());
  }

  private void printAll(List<NodeReport> reports, Map<String, Long> totals) {
    Set<String> names = new LinkedHashSet<>();
    names.add("profiles");
    for (NodeReport r : reports) {
      if (r.up()) {
        names.addAll(r.stats().keySet());
      }
    }
    String[] columns = new String[reports.size() + 2];
    columns[0] = "STAT";
    for (int i = 0; i < reports.size(); i++) {
      columns[i + 1] = ">" + reports.get(i).server();
    }
    columns[columns.length - 1] = ">TOTAL";
    Table table = new Table(columns);
    for (String name : names) {
      Object[] row = new Object[columns.length];
      row[0] = name;
      for (int i = 0; i < reports.size(); i++) {
        NodeReport r = reports.get(i);
        row[i + 1] =
            !r.up() ? "down" : name.equals("profiles") ? Long.toString(r.profiles()) : r.text(name);
      }
      Long total = totals.get(name);
      row[row.length - 1] = total == null ? "" : total.toString();
      table.row(row);
    }
    table.print(out());
  }

  private void printJson(List<NodeReport> reports, Map<String, Long> totals) {
    JsonOut.print(
        out(),
        g -> {
          g.writeStartObject();
          g.writeArrayFieldStart("servers");
          for (NodeReport r : reports) {
            g.writeStartObject();
            g.writeStringField("server", r.server());
            g.writeBooleanField("up", r.up());
            if (r.up()) {
              g.writeNumberField("profiles", r.profiles());
              g.writeObjectFieldStart("stats");
              for (Map.Entry<String, String> e : r.stats().entrySet()) {
                g.writeStringField(e.getKey(), e.getValue());
              }
              g.writeEndObject();
            } else {
              g.writeStringField("error", r.reason());
            }
            g.writeEndObject();
          }
          g.writeEndArray();
          g.writeObjectFieldStart("totals");
          for (Map.Entry<String, Long> e : totals.entrySet()) {
            g.writeNumberField(e.getKey(), e.getValue());
          }
          g.writeEndObject();
          g.writeEndObject();
        });
  }

  static String memory(long used, long cap) {
    return cap <= 0 ? Human.bytes(used) : Human.bytes(used) + " / " + Human.bytes(cap);
  }

  private static String hitRatio(long hits, long misses) {
    long gets = hits + misses;
    return gets == 0 ? "-" : String.format(Locale.ROOT, "%.1f", 100.0 * hits / gets);
  }
}
