package dev.whack.cli;

import dev.whack.cli.bench.ClientLoad;
import dev.whack.cli.bench.MemcacheLoad;
import dev.whack.cli.bench.PipelinedLoad;
import dev.whack.cli.bench.ProfileLoad;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code whack bench}: the load generator behind {@code scripts/bench}. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Drive a memcached-protocol server with a get/set mix and print throughput and latency.",
      "The final line is parseable: bench <id> <system> ops_s=... p50_us=... p99_us=... p999_us=..."
    },
    footer = {
      "",
      "Examples:",
      "  whack bench --port 11211 --pipeline 1 --duration 10",
      "  whack bench --port 11212 --system memcached --id P1-pipelined --pipeline 16"
    })
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--host", description = "server host (default: ${DEFAULT-VALUE})")
  String host = "127.0.0.1";

  @Option(names = "--port", description = "server port (default: ${DEFAULT-VALUE})")
  int port = 11211;

  @Option(names = "--connections", description = "connections (default: ${DEFAULT-VALUE})")
  int connections = 50;

  @Option(names = "--threads", description = "load threads (default: ${DEFAULT-VALUE})")
  int threads = 1;

  @Option(names = "--pipeline", description = "requests in flight per connection (default: ${DEFAULT-VALUE})")
  int pipeline = 1;

  @Option(names = "--keys", description = "key space (default: ${DEFAULT-VALUE})")
  int keys = 100_000;

  @Option(names = "--value-size", description = "value bytes (default: ${DEFAULT-VALUE})")
  int valueSize = 100;

  @Option(names = "--get-ratio", description = "share of gets (default: ${DEFAULT-VALUE})")
  double getRatio = 0.9;

  @Option(names = "--warmup", description = "seconds before measuring (default: ${DEFAULT-VALUE})")
  double warmupSeconds = 3;

  @Option(names = "--duration", description = "seconds measured (default: ${DEFAULT-VALUE})")
  double durationSeconds = 10;

  @Option(names = "--no-preload", description = "do not store every key first")
  boolean noPreload;

  @Option(names = "--id", description = "figure id in the result line (default: ${DEFAULT-VALUE})")
  String id = "memcache";

  @Option(names = "--system", description = "system name in the result line (default: ${DEFAULT-VALUE})")
  String system = "server";

  @Option(names = "--server-pid", description = "report this process's resident memory")
  Long serverPid;

  @Option(
      names = "--rate",
      description = "requests per second across all connections, 0 for as fast as possible (default: ${DEFAULT-VALUE})")
  long rate;

  @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
  long seed = 42;

  @Option(
      names = "--workload",
      description =
          "memcache (P1 get/set), profiles (P2 updates, P7 with --watch), or client-get,"
              + " client-set, client-update (the Java client over --servers) (default: ${DEFAULT-VALUE})")
  String workload = "memcache";

  @Option(names = "--profiles", description = "profiles preloaded for --workload profiles (default: ${DEFAULT-VALUE})")
  int profiles = 1_000_000;

  @Option(names = "--watch", description = "also watch a segment and report the change delay (P7)")
  boolean watch;

  @Override
  public Integer call() throws Exception {
    PipelinedLoad.Settings settings =
        new PipelinedLoad.Settings(
            host,
            port,
            connections,
            threads,
            pipeline,
            (long) (warmupSeconds * 1000),
            (long) (durationSeconds * 1000),
            seed,
            rate);
    return switch (workload) {
      case "memcache" -> memcache(settings);
      case "profiles" -> profiles(settings);
      case "client-get", "client-set", "client-update" -> client(workload.substring(7));
      default -> {
        System.err.println("whack bench: unknown workload " + workload + " (memcache, profiles)");
        yield Whack.EXIT_USAGE;
      }
    };
  }

  private int memcache(PipelinedLoad.Settings settings) throws Exception {
    MemcacheLoad load = new MemcacheLoad(keys, valueSize, getRatio);
    if (!noPreload) {
      load.preload(host, port);
    }
    report(id, new PipelinedLoad(settings, load).run());
    return Whack.EXIT_OK;
  }

  private int profiles(PipelinedLoad.Settings settings) throws Exception {
    ProfileLoad load = new ProfileLoad(profiles, System.currentTimeMillis(), watch);
    if (!noPreload) {
      long start = System.nanoTime();
      load.preload(host, port, 4);
      double seconds = (System.nanoTime() - start) / 1e9;
      System.err.printf(Locale.ROOT, "%s: preloaded %d profiles in %.1f s (%.0f/s)%n", system,
          profiles, seconds, profiles / seconds);
      load.defineSegments(host, port);
    }
    if (watch) {
      load.defineFlipSegment(host, port);
    }
    java.net.Socket watcher = watch ? load.startWatcher(host, port) : null;
    try {
      report(id, new PipelinedLoad(settings, load).run());
    } finally {
      if (watcher != null) {
        watcher.close();
      }
    }
    if (watch) {
      org.HdrHistogram.Histogram delays = load.changeDelays();
      System.out.println(
          String.format(
              Locale.ROOT,
              "bench P7-change-delay %s changes=%d p50_us=%.1f p99_us=%.1f p999_us=%.1f",
              system,
              delays.getTotalCount(),
              delays.getValueAtPercentile(50) / 1000.0,
              delays.getValueAtPercentile(99) / 1000.0,
              delays.getValueAtPercentile(99.9) / 1000.0));
    }
    return Whack.EXIT_OK;
  }

  @Option(
      names = "--servers",
      description = "for the client workloads: nodes the Java client routes over (default: --host:--port)")
  String servers;

  @Option(
      names = "--in-flight",
      description = "for the client workloads: requests in flight (default: ${DEFAULT-VALUE})")
  int inFlight = 2000;

  /** The Java client's own throughput for one operation, over one node or several. */
  private int client(String operation) throws Exception {
    ClientLoad.Op op = ClientLoad.Op.valueOf(operation.toUpperCase(Locale.ROOT));
    try (dev.whack.client.WhackClient client =
        dev.whack.client.WhackClient.builder()
            .servers(servers != null ? servers : host + ":" + port)
            .connectionsPerNode(Math.max(1, connections / 10))
            .build()) {
      ClientLoad load = new ClientLoad(client, op, keys, inFlight, valueSize);
      if (!noPreload) {
        load.preload();
      }
      report(id, load.run((long) (warmupSeconds * 1000), (long) (durationSeconds * 1000)));
    }
    return Whack.EXIT_OK;
  }

  private void report(String figure, PipelinedLoad.Result result) {
    StringBuilder line =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "bench %s %s ops_s=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f",
                figure,
                system,
                result.opsPerSecond(),
                result.percentileMicros(50),
                result.percentileMicros(99),
                result.percentileMicros(99.9)));
    if (serverPid != null) {
      line.append(String.format(Locale.ROOT, " rss_mb=%.0f", residentMegabytes(serverPid)));
    }
    System.err.printf(
        Locale.ROOT,
        "%s: %d ops in %.1f s, max %.1f us%n",
        system,
        result.operations(),
        result.seconds(),
        result.latencyNanos().getMaxValue() / 1000.0);
    System.out.println(line);
  }

  private static double residentMegabytes(long pid) {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (l.startsWith("VmRSS:")) {
          return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (Exception e) {
      return -1;
    }
    return -1;
  }
}
