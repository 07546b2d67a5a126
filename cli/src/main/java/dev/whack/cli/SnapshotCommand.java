package dev.whack.cli;

import dev.whack.cli.output.Human;
import dev.whack.cli.output.Table;
import dev.whack.client.SnapshotTaken;
import dev.whack.client.WhackClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code whack snapshot}: every member writes a snapshot of its data directory now. */
@Command(
    name = "snapshot",
    mixinStandardHelpOptions = true,
    description = {
      "Ask every member started with --data-dir to write a snapshot now (and cut its log), and",
      "wait until each is on disk. Exits 0 when every member wrote one, 1 when some could not (no",
      "data directory, a disk error), 3 when none could be reached."
    },
    footer = {
      "",
      "Examples:",
      "  whack snapshot",
      "  whack snapshot --servers 10.0.0.1:11211 --wait 30m"
    })
final class SnapshotCommand extends ClientCommand {
  @Option(
      names = "--wait",
      paramLabel = "DURATION",
      converter = ClientOptions.DurationConverter.class,
      description = "how long a member may take to write its snapshot (default: 10m)")
  Duration wait = Duration.ofMinutes(10);

  @Override
  public Integer call() {
    List<String> servers;
    List<CompletableFuture<SnapshotTaken>> asks = new ArrayList<>();
    try (WhackClient client = cluster.connect(terminal(), b -> b.requestTimeout(wait))) {
      servers = client.servers();
      for (String s : servers) {
        asks.add(client.snapshot(s));
      }
      Table table = new Table("SERVER", "SNAPSHOT", ">SIZE", ">RECORDS", ">TOOK");
      int written = 0;
      int unreachable = 0;
      List<String> reasons = new ArrayList<>();
      for (int i = 0; i < servers.size(); i++) {
        try {
          SnapshotTaken t = asks.get(i).join();
          table.row(
              servers.get(i),
              "written",
              Human.bytes(t.bytes()),
              t.records(),
              Human.seconds(t.millis() / 1000.0));
          written++;
        } catch (CompletionException e) {
          Throwable cause = e.getCause() == null ? e : e.getCause();
          if (cause instanceof dev.whack.client.NodeUnavailableException) {
            unreachable++;
          }
          table.row(servers.get(i), "failed", "-", "-", "-");
          reasons.add(cause.getMessage());
        }
      }
      table.print(out());
      reasons.forEach(this::note);
      if (written == servers.size()) {
        return Whack.EXIT_OK;
      }
      return unreachable == servers.size() ? Whack.EXIT_UNREACHABLE : Whack.EXIT_FAILED;
    }
  }
}
