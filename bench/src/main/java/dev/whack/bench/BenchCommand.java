package dev.whack.bench;

import dev.whack.cli.Whack;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code whack bench}: the load generator behind {@code scripts/bench} and {@code scripts/soak}.
 * Figures go to the command line's stdout, one parseable line each; progress to its stderr.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Drive a memcached-protocol server with a get/set mix and print throughput and latency.",
      "The final line is parseable: bench <id> <system> ops_s=... p50_us=... p99_us=... p999_us=...",
      "--target redis drives Redis (RESP) instead: the profiles workload as EVALSHA of a Lua script",
      "doing the same work (see --print-script), segcount as SINTERCARD.",
      "--workload profile-get reads profiles at --rate, open loop, over the memcached port or",
      "(--target http) the REST read API's GET /profiles/{key}."
    },
    footer = {
      "",
      "Examples:",
      "  whack bench --port 11211 --pipeline 1 --duration 10",
      "  whack bench --port 11212 --system memcached --id P1-pipelined --pipeline 16",
      "  whack bench --workload profiles --target redis --port 6379 --pipeline 16 --profiles 100000",
      "  whack bench --workload segcount --target redis --port 6379 --connections 1",
      "  whack bench --workload profile-get --target http --http-port 9280 --rate 2000"
          + " --connections 4 --no-preload",
      "  whack bench --workload kafka-backlog --kafka-bootstrap 127.0.0.1:9092 --kafka-updates"
          + " updates --records 1000000 --profiles 100000"
    })
final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  /** The command line's streams, set when the command runs. */
  private PrintStream out;

  private PrintStream err;

  @Option(names = "--host", description = "server host (default: ${DEFAULT-VALUE})")
  String host = "127.0.0.1";

  @Option(names = "--port", description = "server port (default: ${DEFAULT-VALUE})")
  int port = 11211;

  @Option(names = "--connections", description = "connections (default: ${DEFAULT-VALUE})")
  int connections = 50;

  @Option(names = "--threads", description = "load threads (default: ${DEFAULT-VALUE})")
  int threads = 1;

  @Option(
      names = "--pipeline",
      description = "requests in flight per connection (default: ${DEFAULT-VALUE})")
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

  @Option(
      names = "--system",
      description = "system name in the result line (default: ${DEFAULT-VALUE})")
  String system = "server";

  @Option(names = "--server-pid", description = "report this process's resident memory")
  Long serverPid;

  @Option(
      names = "--rate",
      description =
          "requests per second across all connections, 0 for as fast as possible (default: ${DEFAULT-VALUE})")
  long rate;

  @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
  long seed = 42;

  @Option(
      names = "--workload",
      description =
          "memcache (P1 get/set), profiles (P2 updates, P7 with --watch), segcount (P3: size of"
              + " a and b, ~1M members each), segment-sizes (the 50 profile segments' sizes), or"
              + " client-get, client-set, client-update (the Java client over --servers), or soak"
              + " (well-behaved clients beside hostile ones for --duration seconds: scripts/soak),"
              + " or the Kafka steps of P10 (scripts/bench kafka): kafka-backlog (produce --records"
              + " profile updates into --kafka-updates), kafka-drain (poll the node's metrics until"
              + " it applied --records), kafka-delay (updates at --rate beside probes, timed to"
              + " their change on --kafka-changes), kafka-profiles (produce --records whole"
              + " profiles into --kafka-updates, for a refill), or profile-get (reads of the"
              + " profiles workload's profiles at --rate, open loop: latency from each request's"
              + " due time), or profile-update (the profiles workload's updates the same way: a"
              + " steady writer beside others) (default: ${DEFAULT-VALUE})")
  String workload = "memcache";

  @Option(
      names = "--profiles",
      description = "profiles preloaded for --workload profiles (default: ${DEFAULT-VALUE})")
  int profiles = 1_000_000;

  @Option(
      names = "--preferences",
      description =
          "profiles: 20 preference dimensions defined, profiles preloaded with 60 days of counts"
              + " in them, and every update a viewed car with 20 properties (issue 18)")
  boolean preferences;

  @Option(names = "--watch", description = "also watch a segment and report the change delay (P7)")
  boolean watch;

  @Option(
      names = "--idle-watchers",
      description =
          "profiles: connections that each watch 23 of the 50 segments and never read, open"
              + " through the run; the result line adds the node's watch counters")
  int idleWatchers;

  @Option(
      names = "--unsettled",
      description =
          "with --idle-watchers: measure from the moment they connect, while their sockets still"
              + " take change lines, instead of once the sockets are full")
  boolean unsettled;

  @Option(
      names = "--target",
      description =
          "whack, redis, grpc or http: the protocol spoken for profiles, segcount and"
              + " segment-sizes; grpc sends the profiles workload's updates through the Ingest"
              + " stream of --grpc-port (the preload and segments still go through --port); http"
              + " reads profile-get's profiles from --http-port (default: ${DEFAULT-VALUE})")
  String target = "whack";

  @Option(
      names = "--user",
      description =
          "log every memcached-port connection in as this user of the node's auth file, the"
              + " password from WHACK_PASSWORD (a tenant's user loads that tenant)")
  String user;

  @Option(names = "--grpc-port", description = "profiles --target grpc: the node's gRPC port")
  int grpcPort;

  @Option(
      names = "--http-port",
      description = "profile-get --target http: the node's REST read API port")
  int httpPort;

  @Option(
      names = "--batch",
      description =
          "profiles --target grpc: updates per Ingest request (1: each alone; more: as the"
              + " request's items), within --pipeline in flight per stream (default: ${DEFAULT-VALUE})")
  int batch = 1;

  @Option(
      names = "--preload-only",
      description = "profiles and segcount: store the data (and segments), then stop without a run")
  boolean preloadOnly;

  @Option(
      names = "--replay",
      description =
          "profiles: after any preload, send the first N updates of --seed in order on one connection (the same on either target)")
  long replay;

  @Option(
      names = "--epoch-ms",
      description =
          "profiles: the clock the profiles' timestamps are made from (default: now), so two runs preload the same data")
  Long epochMillis;

  @Option(
      names = "--segcount-profiles",
      description =
          "segcount: profiles, each in a and in b with probability 2/3 (default: ${DEFAULT-VALUE})")
  int segcountProfiles = 1_500_000;

  @Option(
      names = "--script",
      description =
          "profiles --target redis: run this Lua file instead of the built-in script (same arguments)")
  Path scriptFile;

  @Option(
      names = "--print-script",
      description = "print the Lua script Redis runs per profile update, and exit")
  boolean printScript;

  @Override
  public Integer call() throws Exception {
    out = Whack.terminal(spec).out();
    err = Whack.terminal(spec).err();
    if (user != null) {
      String password = System.getenv("WHACK_PASSWORD");
      if (password == null) {
        err.println("whack bench: --user needs the password in WHACK_PASSWORD");
        return Whack.EXIT_USAGE;
      }
      Login.as(user, password);
    }
    if (printScript) {
      out.print(RedisProfileScript.LUA);
      return Whack.EXIT_OK;
    }
    if (!target.equals("whack")
        && !target.equals("redis")
        && !target.equals("grpc")
        && !target.equals("http")) {
      err.println("whack bench: unknown target " + target + " (whack, redis, grpc, http)");
      return Whack.EXIT_USAGE;
    }
    if (target.equals("http") && (!workload.equals("profile-get") || httpPort == 0)) {
      err.println("whack bench: --target http is for --workload profile-get, with --http-port");
      return Whack.EXIT_USAGE;
    }
    if (workload.equals("profile-get") && rate <= 0) {
      err.println("whack bench: --workload profile-get runs at a --rate (requests per second)");
      return Whack.EXIT_USAGE;
    }
    if (target.equals("grpc") && (!workload.equals("profiles") || grpcPort == 0)) {
      err.println("whack bench: --target grpc is for --workload profiles, with --grpc-port");
      return Whack.EXIT_USAGE;
    }
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
      case "profiles" -> target.equals("redis") ? redisProfiles(settings) : profiles(settings);
      case "segcount" -> segcount(settings);
      case "profile-get" -> profileGet();
      case "profile-update" -> profileUpdate();
      case "segment-sizes" -> segmentSizes();
      case "client-get", "client-set", "client-update" -> client(workload.substring(7));
      case "soak" -> soak();
      case "kafka-backlog" -> kafkaBacklog();
      case "kafka-drain" -> kafkaDrain();
      case "kafka-delay" -> kafkaDelay();
      case "kafka-profiles" -> kafkaProfiles();
      default -> {
        err.println(
            "whack bench: unknown workload "
                + workload
                + " (memcache, profiles, segcount, segment-sizes, client-get, client-set,"
                + " client-update, soak, kafka-backlog, kafka-drain, kafka-delay, kafka-profiles,"
                + " profile-get)");
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
    ProfileLoad load = new ProfileLoad(profiles, clock(), watch, preferences);
    if (!noPreload) {
      long start = System.nanoTime();
      load.preload(host, port, 4);
      double seconds = (System.nanoTime() - start) / 1e9;
      err.printf(
          Locale.ROOT,
          "%s: preloaded %d profiles in %.1f s (%.0f/s)%n",
          system,
          profiles,
          seconds,
          profiles / seconds);
      start = System.nanoTime();
      load.defineSegments(host, port);
      err.printf(
          Locale.ROOT,
          "%s: defined 50 segments in %.1f s%n",
          system,
          (System.nanoTime() - start) / 1e9);
    }
    replay(load);
    if (preloadOnly) {
      return Whack.EXIT_OK;
    }
    if (watch) {
      load.defineFlipSegment(host, port);
    }
    if (target.equals("grpc")) {
      return grpcProfiles(settings);
    }
    Socket watcher = watch ? load.startWatcher(host, port) : null;
    List<Socket> idle =
        idleWatchers > 0 ? load.openIdleWatchers(host, port, idleWatchers) : List.of();
    try {
      double settleSeconds = idleWatchers > 0 && !unsettled ? settle(settings, load) : 0;
      Map<String, String> before = nodeStats();
      CpuMark cpuBefore = cpuMark();
      PipelinedLoad.Result result = new PipelinedLoad(settings, load).run();
      Map<String, String> after = nodeStats();
      String extra = cpuPerUpdate(before, after, cpuBefore);
      if (idleWatchers > 0) {
        double seconds = warmupSeconds + durationSeconds;
        extra +=
            String.format(
                Locale.ROOT,
                " idle_watchers=%d settle_s=%.0f watchers_open=%s changes_s=%.0f",
                idleWatchers,
                settleSeconds,
                after.get("watchers"),
                (counter(after, "segment_changes") - counter(before, "segment_changes")) / seconds);
      }
      if (load.serverErrors() > 0) {
        // Counted as answered (the node answered at once); a cluster changing under the load
        // refuses some updates (docs/cluster.md), and the figure says how many.
        extra += " server_errors=" + load.serverErrors();
      }
      report(id, result, extra);
    } finally {
      for (Socket s : idle) {
        s.close();
      }
      if (watcher != null) {
        watcher.close();
      }
    }
    if (watch) {
      printChangeDelays(load.changeDelays());
    }
    return Whack.EXIT_OK;
  }

  /** CPU seconds used so far by the node ({@code --server-pid}, else 0) and by this generator. */
  private record CpuMark(double node, double load) {}

  private CpuMark cpuMark() throws IOException {
    return new CpuMark(
        serverPid != null ? cpuSeconds(serverPid) : 0, cpuSeconds(ProcessHandle.current().pid()));
  }

  /**
   * " node_cpu_us_per_update=... load_cpu_us_per_update=..." for the updates the node counted
   * between two of its stats, or nothing without --server-pid: the node's and this generator's CPU
   * per update over the whole run, warm-up included. On a machine the two share, what the generator
   * spends is not the node's to use, so two protocols' rates compare only beside it.
   */
  private String cpuPerUpdate(Map<String, String> before, Map<String, String> after, CpuMark cpu)
      throws IOException {
    long updates = counter(after, "profile_updates") - counter(before, "profile_updates");
    if (serverPid == null || updates <= 0) {
      return "";
    }
    CpuMark now = cpuMark();
    return String.format(
        Locale.ROOT,
        " node_cpu_us_per_update=%.2f load_cpu_us_per_update=%.2f",
        (now.node() - cpu.node()) * 1e6 / updates,
        (now.load() - cpu.load()) * 1e6 / updates);
  }

  /** The P7 line: the delay from an update's acknowledgement to its change. */
  private void printChangeDelays(org.HdrHistogram.Histogram delays) {
    out.println(
        String.format(
            Locale.ROOT,
            "bench P7-change-delay %s changes=%d p50_us=%.1f p99_us=%.1f p999_us=%.1f",
            system,
            delays.getTotalCount(),
            delays.getValueAtPercentile(50) / 1000.0,
            delays.getValueAtPercentile(99) / 1000.0,
            delays.getValueAtPercentile(99.9) / 1000.0));
  }

  /**
   * P2's update stream through the gRPC port's Ingest streams (issue 17): one stream per
   * connection, {@code --pipeline} items in flight on each, over {@code --threads} HTTP/2
   * connections; with {@code --watch}, the Subscribe delay beside P7's.
   */
  private int grpcProfiles(PipelinedLoad.Settings settings) throws Exception {
    GrpcLoad load = new GrpcLoad(profiles, clock(), watch, batch);
    CpuMark cpuBefore = cpuMark();
    Map<String, String> before = nodeStats();
    PipelinedLoad.Result result =
        load.run(
            host,
            grpcPort,
            Math.max(1, Math.min(threads, connections)),
            connections,
            pipeline,
            settings.warmupMillis(),
            settings.durationMillis(),
            seed,
            rate);
    Map<String, String> after = nodeStats();
    String extra = cpuPerUpdate(before, after, cpuBefore);
    if (load.refused() > 0) {
      extra += " refused=" + load.refused();
    }
    report(id, result, extra);
    if (watch) {
      printChangeDelays(load.changeDelays());
    }
    return Whack.EXIT_OK;
  }

  /**
   * Runs the workload unmeasured, a second at a time, until the node has stopped sending change
   * lines to the idle watchers (at most a minute): until then their sockets take lines like a
   * reader's would, and each costs the node a write per batch of changes. Returns the seconds it
   * took.
   */
  private double settle(PipelinedLoad.Settings settings, ProfileLoad load) throws Exception {
    PipelinedLoad.Settings second =
        new PipelinedLoad.Settings(
            settings.host(),
            settings.port(),
            settings.connections(),
            settings.threads(),
            settings.pipeline(),
            0,
            1000,
            settings.seed() + 1,
            settings.ratePerSecond());
    long start = System.nanoTime();
    long sent = counter(nodeStats(), "watch_changes_sent");
    for (int i = 0; i < 60; i++) {
      new PipelinedLoad(second, load).run();
      long now = counter(nodeStats(), "watch_changes_sent");
      if (now == sent) {
        break;
      }
      sent = now;
    }
    return (System.nanoTime() - start) / 1e9;
  }

  /** The node's {@code stats}, name to value. */
  private Map<String, String> nodeStats() throws IOException {
    Map<String, String> stats = new HashMap<>();
    try (Socket s = Login.socket(host, port)) {
      s.getOutputStream().write("stats\r\n".getBytes(StandardCharsets.US_ASCII));
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      for (String line = in.readLine(); line != null && !line.equals("END"); line = in.readLine()) {
        String[] t = line.split(" ", 3);
        if (t.length == 3) {
          stats.put(t[1], t[2]);
        }
      }
    }
    return stats;
  }

  /** User plus system CPU seconds of a process (Linux: /proc/pid/stat, in 1/100 s ticks). */
  private static double cpuSeconds(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
  }

  private static long counter(Map<String, String> stats, String name) {
    String v = stats.get(name);
    return v == null ? 0 : Long.parseLong(v);
  }

  private void replay(PipelinedLoad.Protocol load) throws IOException {
    if (replay > 0) {
      long start = System.nanoTime();
      Replay.run(host, port, load, replay, seed);
      err.printf(
          Locale.ROOT,
          "%s: replayed %d updates in %.1f s%n",
          system,
          replay,
          (System.nanoTime() - start) / 1e9);
    }
  }

  private long clock() {
    return epochMillis != null ? epochMillis : System.currentTimeMillis();
  }

  /** P2 on Redis: the same profiles and update stream, as EVALSHA of {@link RedisProfileScript}. */
  private int redisProfiles(PipelinedLoad.Settings settings) throws Exception {
    RedisProfileLoad load = new RedisProfileLoad(profiles, clock());
    load.loadScript(
        host, port, scriptFile != null ? Files.readString(scriptFile) : RedisProfileScript.LUA);
    if (!noPreload) {
      long start = System.nanoTime();
      load.preload(host, port, 4);
      double seconds = (System.nanoTime() - start) / 1e9;
      err.printf(
          Locale.ROOT,
          "%s: preloaded %d profiles (and their segment sets) in %.1f s (%.0f/s)%n",
          system,
          profiles,
          seconds,
          profiles / seconds);
    }
    replay(load);
    if (preloadOnly) {
      return Whack.EXIT_OK;
    }
    report(id, new PipelinedLoad(settings, load).run());
    return Whack.EXIT_OK;
  }

  /**
   * Reads of the profiles workload's profiles at {@code --rate}, open loop ({@link OpenLoopLoad})
   * over {@code --connections} kept-alive connections: through the REST read API ({@code --target
   * http}, issue 18) or the memcached port. The line adds the generator's own send lag and the
   * reads that found no profile (0 in a sound run).
   */
  private int profileGet() throws Exception {
    if (!noPreload) {
      ProfileLoad preload = new ProfileLoad(profiles, clock(), false);
      preload.preload(host, port, 4);
    }
    boolean http = target.equals("http");
    ProfileReadLoad reads =
        new ProfileReadLoad(
            http ? ProfileReadLoad.Target.HTTP : ProfileReadLoad.Target.MEMCACHED, profiles, host);
    OpenLoopLoad load = openLoop(http ? httpPort : port, reads);
    PipelinedLoad.Result result = load.run();
    report(
        id,
        result,
        openLoopFields(load)
            + String.format(
                Locale.ROOT,
                " from_send_p999_us=%.1f misses=%d dropped=%d",
                load.fromSendNanos().getValueAtPercentile(99.9) / 1000.0,
                reads.misses(),
                load.dropped()));
    return reads.misses() == 0 && load.dropped() == 0 ? Whack.EXIT_OK : Whack.EXIT_FAILED;
  }

  /** The fields every open-loop figure reports: its rate, connections and latencies from send. */
  private String openLoopFields(OpenLoopLoad load) {
    return String.format(
        Locale.ROOT,
        " rate=%d connections=%d send_lag_p99_us=%.1f from_send_p50_us=%.1f from_send_p99_us=%.1f",
        rate,
        Math.max(1, connections),
        load.sendLagNanos().getValueAtPercentile(99) / 1000.0,
        load.fromSendNanos().getValueAtPercentile(50) / 1000.0,
        load.fromSendNanos().getValueAtPercentile(99) / 1000.0);
  }

  /** An open-loop load of {@code requests} at {@code --rate} on {@code --connections} to a port. */
  private OpenLoopLoad openLoop(int toPort, PipelinedLoad.Protocol requests) {
    return new OpenLoopLoad(
        new OpenLoopLoad.Settings(
            host,
            toPort,
            Math.max(1, connections),
            rate,
            (long) (warmupSeconds * 1000),
            (long) (durationSeconds * 1000),
            seed),
        requests);
  }

  /**
   * The profiles workload's updates at {@code --rate}, open loop ({@link OpenLoopLoad}): a steady
   * writer whose latency is measured from each update's due time (P14's steady tenant).
   */
  private int profileUpdate() throws Exception {
    if (rate <= 0) {
      err.println("whack bench: --workload profile-update runs at a --rate (updates per second)");
      return Whack.EXIT_USAGE;
    }
    ProfileLoad updates = new ProfileLoad(profiles, clock(), false);
    if (!noPreload) {
      updates.preload(host, port, 4);
    }
    OpenLoopLoad load = openLoop(port, updates);
    PipelinedLoad.Result result = load.run();
    report(
        id,
        result,
        openLoopFields(load)
            + String.format(
                Locale.ROOT,
                " server_errors=%d dropped=%d",
                updates.serverErrors(),
                load.dropped()));
    return load.dropped() == 0 ? Whack.EXIT_OK : Whack.EXIT_FAILED;
  }

  /**
   * P3: size of a and b, one query at a time per connection; the last answer is reported as count.
   */
  private int segcount(PipelinedLoad.Settings settings) throws Exception {
    SegCountLoad load =
        new SegCountLoad(
            target.equals("redis") ? SegCountLoad.Target.REDIS : SegCountLoad.Target.WHACK,
            segcountProfiles);
    if (!noPreload) {
      long start = System.nanoTime();
      load.populate(host, port, 4);
      err.printf(
          Locale.ROOT,
          "%s: populated %d profiles' segments in %.1f s%n",
          system,
          segcountProfiles,
          (System.nanoTime() - start) / 1e9);
    }
    if (preloadOnly) {
      return Whack.EXIT_OK;
    }
    report(id, new PipelinedLoad(settings, load).run(), " count=" + load.lastCount());
    return Whack.EXIT_OK;
  }

  @Option(
      names = "--interval",
      description = "soak: seconds between progress lines (default: ${DEFAULT-VALUE})")
  double intervalSeconds = 30;

  /**
   * The soak test: hostile clients beside well-behaved ones, a line per interval, then a summary.
   */
  private int soak() throws Exception {
    Soak.Settings s =
        new Soak.Settings(
            host,
            port,
            serverPid,
            (long) (durationSeconds * 1000),
            (long) (intervalSeconds * 1000),
            Math.max(1, connections),
            (int) Math.max(1, rate / Math.max(1, connections)),
            seed);
    out.println(new Soak(s, out).run());
    return Whack.EXIT_OK;
  }

  @Option(
      names = "--kafka-bootstrap",
      description = "kafka-*: the broker (default: ${DEFAULT-VALUE})")
  String kafkaBootstrap = "127.0.0.1:9092";

  @Option(
      names = "--kafka-updates",
      description = "kafka-*: the node's updates topic (default: ${DEFAULT-VALUE})")
  String kafkaUpdates = "whack-updates";

  @Option(
      names = "--kafka-changes",
      description = "kafka-delay: the node's changes topic (default: ${DEFAULT-VALUE})")
  String kafkaChanges = "whack-changes";

  @Option(
      names = "--records",
      description = "kafka-backlog: updates to produce; kafka-drain: records the node must apply")
  long records;

  @Option(
      names = "--after",
      description =
          "kafka-drain: records the node had applied before this backlog (a warm-up's), which"
              + " the drain neither waits for nor times")
  long after;

  @Option(
      names = "--metrics-port",
      description = "kafka-drain: the node's --metrics-port, read at --host")
  int metricsPort;

  /** P10's backlog: the P2 update stream produced into the updates topic, as fast as it goes. */
  private int kafkaBacklog() {
    KafkaLoad load = new KafkaLoad(kafkaBootstrap, kafkaUpdates, profiles, clock());
    return produced(load.produceBacklog(records, seed));
  }

  /**
   * P5 through Kafka: --records whole profiles into the (compacted) topic --kafka-updates names.
   */
  private int kafkaProfiles() {
    KafkaLoad load = new KafkaLoad(kafkaBootstrap, kafkaUpdates, profiles, clock());
    return produced(load.produceProfiles(records, seed, clock()));
  }

  private int produced(KafkaLoad.Produced p) {
    out.println(
        String.format(
            Locale.ROOT,
            "bench %s %s records=%d seconds=%.2f records_s=%.0f failed=%d",
            id,
            system,
            p.records(),
            p.seconds(),
            p.perSecond(),
            p.failed()));
    return p.failed() == 0 ? Whack.EXIT_OK : Whack.EXIT_FAILED;
  }

  /**
   * P10's ingest rate: how fast the node applies a backlog, from its metrics. Prints "polling" on
   * stderr just before the first read, the moment for the script to resume the frozen node.
   */
  private int kafkaDrain() throws Exception {
    double cpuBefore = serverPid != null ? cpuSeconds(serverPid) : 0;
    KafkaLoad.Drain d =
        KafkaLoad.drain(
            "http://" + host + ":" + metricsPort + "/metrics",
            after,
            records,
            60,
            () -> {
              err.println(system + ": polling the node's metrics");
              err.flush();
            });
    String cpu =
        serverPid != null && d.records() > 0
            ? String.format(
                Locale.ROOT,
                " node_cpu_us_per_update=%.2f",
                (cpuSeconds(serverPid) - cpuBefore) * 1e6 / records)
            : "";
    out.println(
        String.format(
            Locale.ROOT,
            "bench %s %s ops_s=%.0f records=%d seconds=%.2f duplicates=%d dead_letters=%d"
                + " handled_total=%d%s",
            id,
            system,
            d.perSecond(),
            d.records(),
            d.seconds(),
            d.duplicates(),
            d.deadLetters(),
            d.handledTotal(),
            cpu));
    return d.deadLetters() == 0 ? Whack.EXIT_OK : Whack.EXIT_FAILED;
  }

  /**
   * P10's delay from produce to segment change: defines {@code probe} ({@code probe == true}) over
   * the memcached port, then runs {@link KafkaLoad#changeDelays}. Three lines: the steady stream's
   * rate ({@code <id>-stream}), the delays to the changes topic ({@code <id>}) and to a {@code
   * watch} line ({@code <id>-watch}).
   */
  private int kafkaDelay() throws Exception {
    ProfileLoad.define(host, port, List.<String[]>of(new String[] {"probe", "probe == true"}));
    KafkaLoad load = new KafkaLoad(kafkaBootstrap, kafkaUpdates, profiles, clock());
    KafkaLoad.Delays d =
        load.changeDelays(
            host,
            port,
            kafkaChanges,
            rate,
            (long) (warmupSeconds * 1000),
            (long) (durationSeconds * 1000),
            seed);
    out.println(
        String.format(
            Locale.ROOT,
            "bench %s-stream %s ops_s=%.0f rate=%d failed=%d",
            id,
            system,
            d.streamed() / d.seconds(),
            rate,
            d.failed()));
    org.HdrHistogram.Histogram h = d.nanos();
    out.println(
        String.format(
            Locale.ROOT,
            "bench %s %s changes=%d probes=%d unmatched=%d p50_us=%.1f p99_us=%.1f p999_us=%.1f"
                + " max_us=%.1f",
            id,
            system,
            h.getTotalCount(),
            d.probes(),
            d.unmatched(),
            h.getValueAtPercentile(50) / 1000.0,
            h.getValueAtPercentile(99) / 1000.0,
            h.getValueAtPercentile(99.9) / 1000.0,
            h.getMaxValue() / 1000.0));
    org.HdrHistogram.Histogram w = d.watchNanos();
    out.println(
        String.format(
            Locale.ROOT,
            "bench %s-watch %s changes=%d p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f",
            id,
            system,
            w.getTotalCount(),
            w.getValueAtPercentile(50) / 1000.0,
            w.getValueAtPercentile(99) / 1000.0,
            w.getValueAtPercentile(99.9) / 1000.0,
            w.getMaxValue() / 1000.0));
    return d.failed() == 0 && d.unmatched() == 0 ? Whack.EXIT_OK : Whack.EXIT_FAILED;
  }

  /** One line per benchmark segment: {@code segment <name> <size>}. */
  private int segmentSizes() throws Exception {
    Map<String, Long> sizes =
        target.equals("redis") ? SegmentSizes.redis(host, port) : SegmentSizes.whack(host, port);
    sizes.forEach((name, size) -> out.println("segment " + name + " " + size));
    return Whack.EXIT_OK;
  }

  @Option(
      names = "--servers",
      description =
          "for the client workloads: nodes the Java client routes over (default: --host:--port)")
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
    report(figure, result, "");
  }

  private void report(String figure, PipelinedLoad.Result result, String extra) {
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
    line.append(extra);
    err.printf(
        Locale.ROOT,
        "%s: %d ops in %.1f s, max %.1f us%n",
        system,
        result.operations(),
        result.seconds(),
        result.latencyNanos().getMaxValue() / 1000.0);
    out.println(line);
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
