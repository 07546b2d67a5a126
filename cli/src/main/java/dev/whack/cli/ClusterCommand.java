package dev.whack.cli;

import dev.whack.cli.output.Human;
import dev.whack.cli.output.JsonOut;
import dev.whack.cli.output.Table;
import dev.whack.client.WhackClient;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code whack cluster ...}. */
@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    description = "Look at the cluster as a whole.",
    subcommands = {ClusterCommand.Status.class},
    footer = {
      "",
      "Examples:",
      "  whack cluster status",
      "  WHACK_SERVERS=$(scripts/cluster start 3) whack cluster status"
    })
final class ClusterCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: status");
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = {
        "Show each member up or down, with its version, uptime, item and profile counts, memory",
        "and whether the peers it reached have the same member list (MEMBERS: alone, 3 agree,",
        "3, 1 differs, or 3, 1 unchecked). Exits 0 when every member is up and no member lists",
        "differ, 1 when some are down or lists differ, 3 when none is up."
      },
      footer = {
        "",
        "Examples:",
        "  whack cluster status",
        "  whack cluster status --servers 10.0.0.1:11211,10.0.0.2:11211",
        "  until whack cluster status >/dev/null; do sleep 1; done      wait for every node"
      })
  static final class Status extends ClientCommand {
    @Option(names = "--json", description = "print {\"up\":N,\"down\":N,\"servers\":[...]}")
    boolean json;

    @Override
    public Integer call() {
      List<NodeReport> reports;
      try (WhackClient client = connect()) {
        reports =
            NodeReport.ask(client, cluster.timeout.toMillis() + cluster.connectTimeout.toMillis());
      }
      long up = reports.stream().filter(NodeReport::up).count();
      if (json) {
        JsonOut.print(
            out(),
            g -> {
              g.writeStartObject();
              g.writeNumberField("up", up);
              g.writeNumberField("down", reports.size() - up);
              g.writeArrayFieldStart("servers");
              for (NodeReport r : reports) {
                g.writeStartObject();
                g.writeStringField("server", r.server());
                g.writeStringField("status", r.up() ? "up" : "down");
                if (r.up()) {
                  g.writeStringField("version", r.text("version"));
                  g.writeNumberField("uptime_s", r.stat("uptime"));
                  g.writeNumberField("items", r.stat("curr_items"));
                  g.writeNumberField("profiles", r.profiles());
                  g.writeNumberField("bytes", r.stat("bytes"));
                  g.writeNumberField("limit_bytes", r.stat("limit_maxbytes"));
                  if (r.cluster() != null) {
                    g.writeStringField("members", r.cluster().get("members"));
                    g.writeNumberField("disagreements", r.disagreements());
                  }
                } else {
                  g.writeStringField("error", r.reason());
                }
                g.writeEndObject();
              }
              g.writeEndArray();
              g.writeEndObject();
            });
        return exitCode(reports);
      }
      Table table =
          new Table(
              "SERVER",
              "STATUS",
              "VERSION",
              ">UPTIME",
              ">ITEMS",
              ">PROFILES",
              ">MEMORY",
              "MEMBERS");
      long items = 0;
      long profiles = 0;
      for (NodeReport r : reports) {
        if (r.up()) {
          table.row(
              r.server(),
              "up",
              r.text("version"),
              Human.uptime(r.stat("uptime")),
              r.stat("curr_items"),
              r.profiles(),
              StatsCommand.memory(r.stat("bytes"), r.stat("limit_maxbytes")),
              r.membersSummary());
          items += r.stat("curr_items");
          profiles += r.profiles();
        } else {
          table.row(r.server(), "down: " + r.reason(), "-", "-", "-", "-", "-", "-");
        }
      }
      table.rule();
      table.row("total", up + "/" + reports.size() + " up", "", "", items, profiles, "", "");
      table.print(out());
      handOffs(reports);
      for (NodeReport r : reports) {
        if (r.disagreements() > 0) {
          note(
              r.server()
                  + " found peers with other member lists (stats cluster shows them): give every"
                  + " node the same --peers");
        }
      }
      return exitCode(reports);
    }

    /**
     * A Kafka-managed cluster's hand-offs in progress (as the map with the highest epoch marks
     * them), each with how far the receiving member's warm copy is behind.
     */
    private void handOffs(List<NodeReport> reports) {
      NodeReport newest = null;
      for (NodeReport r : reports) {
        if (r.up()
            && r.cluster() != null
            && r.cluster().get("slots_moving") != null
            && (newest == null
                || Long.parseLong(r.cluster().get("epoch"))
                    > Long.parseLong(newest.cluster().get("epoch")))) {
          newest = r;
        }
      }
      if (newest == null) {
        return;
      }
      java.util.Map<Integer, String> moving = newest.moving();
      out().println(moving.isEmpty() ? "hand-offs: none" : "hand-offs in progress:");
      for (java.util.Map.Entry<Integer, String> m : moving.entrySet()) {
        String to = m.getValue().substring(m.getValue().indexOf('>') + 1);
        long lag = -1;
        for (NodeReport r : reports) {
          if (r.up() && r.server().equals(to)) {
            lag = r.copyLag(m.getKey());
          }
        }
        out()
            .println(
                "  slot "
                    + m.getKey()
                    + ": "
                    + m.getValue().replace(">", " -> ")
                    + (lag < 0
                        ? ", copy not started"
                        : ", copy " + lag + " records behind (moves at <= 2000)"));
      }
    }

    /** As for every report, and 1 when a member found a peer whose member list differs. */
    private static int exitCode(List<NodeReport> reports) {
      int code = NodeReport.exitCode(reports);
      boolean differ = reports.stream().anyMatch(r -> r.disagreements() > 0);
      return code == Whack.EXIT_OK && differ ? Whack.EXIT_FAILED : code;
    }
  }
}
