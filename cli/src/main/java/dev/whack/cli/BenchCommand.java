package dev.whack.cli;

import dev.whack.cli.bench.MemcacheLoad;
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

  @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
  long seed = 42;

  @Override
  public Integer call() throws Exception {
    MemcacheLoad load =
        new MemcacheLoad(
            new MemcacheLoad.Settings(
                host,
                port,
                connections,
                threads,
                pipeline,
                keys,
                valueSize,
                getRatio,
                (long) (warmupSeconds * 1000),
                (long) (durationSeconds * 1000),
                seed));
    if (!noPreload) {
      load.preload();
    }
    MemcacheLoad.Result result = load.run();
    StringBuilder line =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "bench %s %s ops_s=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f",
                id,
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
        "%s: %d ops in %.1f s, %d get misses, max %.1f us%n",
        system,
        result.operations(),
        result.seconds(),
        result.misses(),
        result.latencyNanos().getMaxValue() / 1000.0);
    System.out.println(line);
    return Whack.EXIT_OK;
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
