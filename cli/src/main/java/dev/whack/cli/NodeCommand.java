package dev.whack.cli;

import dev.whack.node.Hangup;
import dev.whack.node.Signals;
import dev.whack.node.WhackNode;
import dev.whack.node.config.NodeConfig;
import dev.whack.node.config.TlsOptions;
import dev.whack.node.observability.NodeLog;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code whack node}: runs a node in the foreground until interrupted. */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    description = "Run a Whack node (memcached text, meta and binary protocols on one port).",
    footer = {
      "",
      "Examples:",
      "  whack node                          one node on 127.0.0.1:11211, 1 GiB cap",
      "  whack node --port 11311 --memory 4g",
      "  whack node --bind 0.0.0.0 --metrics-port 0",
      "  whack node --tls-cert node.pem --tls-key node.key --tls-ca ca.pem",
      "  whack node --port 11212 --peers 10.0.0.1:11211,10.0.0.2:11211,10.0.0.3:11211",
      "  whack node --config /etc/whack/whack.yaml --port 11311",
      "  whack node --config whack.yaml --print-config > effective.yaml"
    })
final class NodeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "read settings from this YAML file: one key per flag, named as the flag without its --"
              + " (port: 11211, data-dir: /var/lib/whack); a flag given too wins over the file,"
              + " and a relative path in the file is relative to the file's directory")
  java.nio.file.Path configFile;

  @Option(
      names = "--print-config",
      description =
          "print the settings the node would run with (the file, the flags, the defaults) as a"
              + " --config file, and exit without starting it")
  boolean printConfig;

  @Option(names = "--port", description = "memcached port (default: ${DEFAULT-VALUE})")
  int port = NodeConfig.DEFAULT_PORT;

  @Option(names = "--bind", description = "address to listen on (default: ${DEFAULT-VALUE})")
  String bind = NodeConfig.DEFAULT_BIND;

  @Option(
      names = "--memory",
      description = "memory cap for items, e.g. 64m, 1g (default: 1g); LRU eviction above it")
  String memory = "1g";

  @Option(names = "--max-item-size", description = "largest value accepted, e.g. 1m (default: 1m)")
  String maxItemSize = "1m";

  @Option(
      names = "--metrics-port",
      description = "Prometheus /metrics port, 0 for none (default: ${DEFAULT-VALUE})")
  int metricsPort = NodeConfig.DEFAULT_METRICS_PORT;

  @Option(
      names = "--grpc-port",
      description =
          "gRPC port (docs/grpc.md: Ingest, profiles, counts, segments, health, reflection), 0 for"
              + " none"
              + " (default: ${DEFAULT-VALUE}); a node alone in memory only for now")
  int grpcPort;

  @Option(
      names = "--http-port",
      description =
          "REST read API port (docs/http.md: profiles, their segments, segment counts, health),"
              + " on the --bind address; 0 for none (default: ${DEFAULT-VALUE})")
  int httpPort;

  @Option(names = "--threads", description = "network threads (default: one per core)")
  int threads = Runtime.getRuntime().availableProcessors();

  @Option(
      names = "--max-connections",
      description = "connections accepted at once (default: ${DEFAULT-VALUE})")
  int maxConnections = NodeConfig.DEFAULT_MAX_CONNECTIONS;

  @Option(
      names = "--idle-timeout",
      paramLabel = "SECONDS",
      description =
          "close a connection after this many seconds without a complete request, as"
              + " memcached's -o idle_timeout; a connection watching segments is never idle"
              + " (default: 0, never)")
  long idleTimeoutSeconds;

  @Option(
      names = "--watch-buffer",
      description =
          "change buffer all watchers read, a power of two, e.g. 16m (default: 16m); a watcher"
              + " that falls this far behind loses the oldest changes and is told how many")
  String watchBuffer = "16m";

  @Option(
      names = "--watch-lapped-timeout",
      description =
          "how long a watcher may stay lapped (losing changes, or not reading) before the node"
              + " tells it why and closes its connection, e.g. 30s, 2m (default: 30s)")
  String watchLappedTimeout = "30s";

  @Option(
      names = "--peers",
      split = ",",
      description =
          "cluster members as host:port,... (this node may be listed too); keys other"
              + " members own are forwarded to them")
  java.util.List<String> peers = java.util.List.of();

  @Option(
      names = "--cluster",
      paramLabel = "NAME",
      description =
          "join the Kafka-managed cluster of this name (needs --kafka-bootstrap and"
              + " --kafka-updates): its members are a consumer group, each owns the keys of its"
              + " share of the updates topic's partitions, and a member added or lost moves only"
              + " its share (docs/cluster.md)")
  String cluster;

  @Option(
      names = "--replicas",
      paramLabel = "N",
      description =
          "with --cluster, how many other members keep each slot's profiles warm, so that a"
              + " member's failure hands its keys to one of them rather than to a refill (default:"
              + " ${DEFAULT-VALUE}; each replica costs the memory of the profiles it keeps)")
  int replicas = 1;

  @Option(
      names = "--kafka-session-timeout",
      paramLabel = "DURATION",
      description =
          "how long a managed cluster waits for a silent member before its keys move to the"
              + " others (default: ${DEFAULT-VALUE}; the broker allows 6s to 5m by default)")
  String sessionTimeout = "10s";

  @Option(
      names = "--advertise",
      description =
          "this node's host:port as its peers know it (default: --bind:--port; needed with"
              + " --peers when --bind is 0.0.0.0)")
  String advertise;

  @Option(
      names = "--producer-mark-age",
      description =
          "how long a profile keeps a producer's sequence mark that does not advance, e.g. 12h,"
              + " 30d (default: 30d); a replay after that applies again")
  String producerMarkAge = "30d";

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "keep snapshots and a log of every change in DIR and load them on start-up, so a"
              + " restart or a crash loses nothing acknowledged (default: none: in memory only)")
  java.nio.file.Path dataDir;

  @Option(
      names = "--fsync",
      paramLabel = "POLICY",
      description =
          "with --data-dir, when the log is forced to disk: always (before each reply to a"
              + " write), everysec (default: a power cut loses at most about a second), no")
  String fsync = "everysec";

  @Option(
      names = "--skip-damaged",
      negatable = true,
      description =
          "with --data-dir, start even if a snapshot or log is damaged, passing over the damaged"
              + " part (its writes are lost, and said so); without it such a start-up stops"
              + " (--no-skip-damaged turns off a configuration file's skip-damaged: true)")
  boolean skipDamaged;

  @Option(
      names = "--snapshot-every",
      paramLabel = "WHEN",
      description =
          "with --data-dir, take a snapshot (and cut the log) after a time, a number of writes,"
              + " or whichever comes first: 10m, 5000000writes, 10m,5000000writes, or off"
              + " (default: ${DEFAULT-VALUE})")
  String snapshotEvery = "10m,5000000writes";

  @Option(
      names = "--kafka-bootstrap",
      paramLabel = "HOST:PORT",
      description = "the Kafka brokers to consume updates from (with --kafka-updates)")
  String kafkaBootstrap;

  @Option(
      names = "--kafka-updates",
      paramLabel = "TOPIC",
      description =
          "consume this topic of updates keyed by profile key (Update or Profile JSON or"
              + " protobuf; an empty value deletes), each record applied exactly once"
              + " (docs/kafka.md)")
  String kafkaUpdates;

  @Option(
      names = "--kafka-group",
      paramLabel = "ID",
      description = "the consumer group for --kafka-updates (default: ${DEFAULT-VALUE})")
  String kafkaGroup = dev.whack.node.config.KafkaOptions.DEFAULT_GROUP;

  @Option(
      names = "--kafka-dead-letters",
      paramLabel = "TOPIC",
      description =
          "where records that cannot be applied go, with the reason in headers (default: the"
              + " updates topic's name + .dead-letters)")
  String kafkaDeadLetters;

  @Option(
      names = "--kafka-changes",
      paramLabel = "TOPIC",
      description =
          "publish every segment enter and leave to this topic (key: the profile key), at least"
              + " once, each with a version that makes a duplicate recognisable (docs/kafka.md)")
  String kafkaChanges;

  @Option(
      names = "--kafka-changes-segments",
      paramLabel = "NAME[,NAME...]",
      split = ",",
      description = "publish the changes of these segments only (default: every segment)")
  java.util.List<String> kafkaChangesSegments;

  @Option(
      names = "--kafka-changes-format",
      paramLabel = "FORMAT",
      description =
          "json or protobuf (a whack.v1.SegmentChange) for --kafka-changes (default:"
              + " ${DEFAULT-VALUE})")
  String kafkaChangesFormat = "json";

  @Option(
      names = "--kafka-profiles",
      paramLabel = "TOPIC",
      description =
          "keep this compacted topic of whole profiles up to date, and when the node starts empty,"
              + " refill it from there and follow --kafka-updates from where the profiles stand"
              + " (docs/kafka.md); with --cluster, one partition per slot, and a slot or a copy"
              + " with no warm copy is restored from its partition (docs/cluster.md)")
  String kafkaProfiles;

  @Option(
      names = "--kafka-profiles-delay",
      paramLabel = "DURATION",
      description =
          "how long a changed profile waits before --kafka-profiles gets it; changes within it"
              + " are published once (default: ${DEFAULT-VALUE})")
  String kafkaProfilesDelay = "1s";

  @Option(
      names = "--tls-cert",
      paramLabel = "FILE",
      description =
          "speak TLS on the memcached, gRPC and HTTP ports and to the other members, with this"
              + " PEM certificate chain (the node's own first; docs/security.md); reloaded on"
              + " SIGHUP or when the file changes")
  java.nio.file.Path tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      description = "the private key of --tls-cert, unencrypted PKCS#8 PEM")
  java.nio.file.Path tlsKey;

  @Option(
      names = "--tls-ca",
      paramLabel = "FILE",
      description =
          "the CA certificate(s), PEM, that client certificates and the other members'"
              + " certificates are signed by (default: the system's trust store for members, no"
              + " client certificates)")
  java.nio.file.Path tlsCa;

  @Option(
      names = "--tls-client-auth",
      paramLabel = "MODE",
      description =
          "none, optional (verified when sent) or require a client certificate signed by"
              + " --tls-ca (default: require with --tls-ca, none without)")
  String tlsClientAuth;

  @Option(
      names = "--bulk-share",
      paramLabel = "PERCENT",
      description =
          "while live requests arrive, what a Kafka backlog may take of the engine's time, 1 to"
              + " 100 (default: ${DEFAULT-VALUE}; with no live requests a backlog runs at full"
              + " speed)")
  int bulkShare = dev.whack.node.config.NodeConfig.DEFAULT_BULK_SHARE_PERCENT;

  @Option(
      names = "--auth-file",
      paramLabel = "FILE",
      description =
          "users, their roles (read, write, admin) and password hashes, one per line (make a line"
              + " with whack auth hash); every connection must then authenticate (text: memcached's"
              + " set of 'user password'; binary: SASL PLAIN; HTTP and gRPC: Basic), and may run"
              + " only what its role allows (docs/security.md). Read again on SIGHUP")
  java.nio.file.Path authFile;

  @Option(
      names = "--insecure-plaintext",
      negatable = true,
      description =
          "with --auth-file, listen on an address other than loopback without TLS: passwords and"
              + " data cross the network in the clear (--no-insecure-plaintext turns off a"
              + " configuration file's insecure-plaintext: true)")
  boolean insecurePlaintext;

  @Option(
      names = "--member-user",
      paramLabel = "NAME",
      description =
          "with --auth-file in a cluster (--peers, --cluster): the user, of role admin, this node"
              + " authenticates as to the other members (docs/security.md)")
  String memberUser;

  @Option(
      names = "--member-password-file",
      paramLabel = "FILE",
      description = "the password of --member-user: this file's first line")
  java.nio.file.Path memberPasswordFile;

  @Option(
      names = "--log-format",
      paramLabel = "FORMAT",
      description =
          "text (a UTC time, the level and the message on each line of stderr) or json (one"
              + " object per line: time, level, message) (default: ${DEFAULT-VALUE})")
  String logFormat = "text";

  /** The --kafka-* flags, or null when the node uses no Kafka topic. */
  private dev.whack.node.config.KafkaOptions kafkaOptions() {
    if (kafkaBootstrap == null) {
      if (kafkaUpdates != null || kafkaChanges != null || kafkaProfiles != null) {
        throw new IllegalArgumentException(
            "--kafka-updates, --kafka-changes and --kafka-profiles need --kafka-bootstrap");
      }
      return null;
    }
    if (!kafkaChangesFormat.equals("json") && !kafkaChangesFormat.equals("protobuf")) {
      throw new IllegalArgumentException(
          "--kafka-changes-format must be json or protobuf: " + kafkaChangesFormat);
    }
    return new dev.whack.node.config.KafkaOptions(
        kafkaBootstrap,
        kafkaUpdates,
        kafkaGroup,
        kafkaDeadLetters,
        kafkaChanges,
        kafkaChangesSegments,
        kafkaChangesFormat.equals("json"),
        kafkaProfiles,
        Math.max(
            1,
            parsed("--kafka-profiles-delay", kafkaProfilesDelay, NodeConfig::parseDurationMillis)));
  }

  /** Where the settings the configuration file gave are in it ("whack.yaml line 3"), by flag. */
  private java.util.Map<String, String> fromFile = java.util.Map.of();

  /**
   * A flag's text parsed by {@code parse}. A value the parser refuses says where it is when it came
   * from the configuration file ({@code whack.yaml line 3, "memory": not a size ...}); a flag's
   * error reads as it always did.
   */
  private <T> T parsed(String flag, String text, java.util.function.Function<String, T> parse) {
    try {
      return parse.apply(text);
    } catch (IllegalArgumentException e) {
      String where = fromFile.get(flag);
      if (where == null) {
        throw e;
      }
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Integer call() throws Exception {
    if (configFile != null) {
      try {
        fromFile =
            ConfigFile.apply(
                ConfigFile.read(configFile, configFile.toString(), spec),
                spec.commandLine().getParseResult()::hasMatchedOption);
      } catch (ConfigFile.Invalid e) {
        Whack.terminal(spec).err().println("whack node: " + e.getMessage());
        return Whack.EXIT_USAGE;
      }
    }
    NodeConfig config;
    NodeLog.Format format;
    try {
      format = parsed("--log-format", logFormat, NodeLog.Format::parse);
      long[] every = parsed("--snapshot-every", snapshotEvery, NodeConfig::parseSnapshotEvery);
      config =
          new NodeConfig()
              .port(port)
              .bind(bind)
              .memoryBytes(parsed("--memory", memory, NodeConfig::parseSize))
              .maxItemSize(
                  Math.toIntExact(parsed("--max-item-size", maxItemSize, NodeConfig::parseSize)))
              .metricsPort(metricsPort)
              .grpcPort(grpcPort)
              .httpPort(httpPort)
              .ioThreads(threads)
              .maxConnections(maxConnections)
              .idleTimeoutMillis(Math.multiplyExact(idleTimeoutSeconds, 1000L))
              .watchBufferBytes(
                  Math.toIntExact(parsed("--watch-buffer", watchBuffer, NodeConfig::parseSize)))
              .watchLappedTimeoutMillis(
                  parsed(
                      "--watch-lapped-timeout",
                      watchLappedTimeout,
                      NodeConfig::parseDurationMillis))
              .peers(peers)
              .cluster(cluster)
              .replicas(replicas)
              .sessionTimeoutMillis(
                  parsed(
                      "--kafka-session-timeout", sessionTimeout, NodeConfig::parseDurationMillis))
              .advertise(advertise)
              .producerMarkAgeSeconds(
                  parsed("--producer-mark-age", producerMarkAge, NodeConfig::parseSeconds))
              .dataDir(dataDir)
              .fsync(fsync)
              .snapshotEvery(every[0], every[1])
              .skipDamaged(skipDamaged)
              .kafka(kafkaOptions())
              .bulkSharePercent(bulkShare)
              .tls(TlsOptions.of(tlsCert, tlsKey, tlsCa, tlsClientAuth))
              .authFile(authFile)
              .insecurePlaintext(insecurePlaintext)
              .memberCredentials(memberUser, memberPasswordFile)
              .conclude();
    } catch (IllegalArgumentException | ArithmeticException e) {
      Whack.terminal(spec).err().println("whack node: " + e.getMessage());
      return Whack.EXIT_USAGE;
    }
    if (printConfig) {
      Whack.terminal(spec).out().print(ConfigFile.print(spec));
      Whack.terminal(spec).out().flush();
      return Whack.EXIT_OK;
    }
    // The log's format for this node's life; put back after, for a node run inside a test.
    NodeLog.Format previousFormat = NodeLog.format(format);
    try {
      return run(config);
    } finally {
      NodeLog.format(previousFormat);
    }
  }

  /** Starts the node and waits for SIGTERM or Ctrl-C; the exit code. */
  private int run(NodeConfig config) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    WhackNode started;
    try {
      started = WhackNode.start(config);
    } catch (IllegalArgumentException e) {
      Whack.terminal(spec).err().println("whack node: " + e.getMessage());
      return Whack.EXIT_USAGE;
    } catch (UncheckedIOException e) {
      // A port it cannot listen on: the message names the address and the flag that changes it.
      Whack.terminal(spec).err().println("whack node: " + e.getMessage());
      return Whack.EXIT_FAILED;
    }
    // SIGTERM (and Ctrl-C) stop the node here rather than in a shutdown hook, so that the process
    // exits 0 once the node has closed, as a service manager expects of a graceful stop. Handled
    // once the node is up (before, the JVM's default applies: nothing is written while starting).
    for (String signal : new String[] {"TERM", "INT"}) {
      Signals.on(
          signal,
          () -> {
            NodeLog.info("whack node: stopping on SIG" + signal);
            stopAfter(STOP_TIMEOUT);
            stopped.countDown();
          });
    }
    CountDownLatch closed = new CountDownLatch(1);
    try (WhackNode node = started) {
      // The JVM exits once its shutdown hooks return: this one waits for the node to close (a
      // snapshot of a node with --data-dir included) so that SIGTERM stops it cleanly.
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    stopped.countDown();
                    awaitQuietly(closed);
                  },
                  "whack-shutdown"));
      // SIGHUP reads the node's files again (the auth file; the TLS files register their own),
      // as memcached does on it.
      if (node.auth() != null) {
        Hangup.register(() -> NodeLog.info("whack node: SIGHUP: " + node.reload()));
      }
      NodeLog.info(
          String.format(
              "whack node listening on %s:%d (memory %s, max item %s%s)",
              config.bind(),
              node.port(),
              memory,
              maxItemSize,
              (node.metricsPort() == 0
                      ? ", metrics off"
                      : ", metrics on :" + node.metricsPort() + "/metrics")
                  + (node.grpcPort() == 0 ? "" : ", gRPC on :" + node.grpcPort())
                  + (node.httpPort() == 0 ? "" : ", HTTP on :" + node.httpPort())
                  + tlsSummary(node)));
      stopped.await();
    } finally {
      closed.countDown();
    }
    return Whack.EXIT_OK;
  }

  /**
   * The longest a graceful stop may take: a managed member hands its slots off for up to a minute,
   * then the snapshot. Past it the process ends with {@link Whack#EXIT_FAILED} rather than hang
   * (docs/install.md: the systemd unit's TimeoutStopSec is above it).
   */
  static final java.time.Duration STOP_TIMEOUT = java.time.Duration.ofSeconds(100);

  /** Ends the process with EXIT_FAILED if it is still running {@code timeout} from now. */
  private static void stopAfter(java.time.Duration timeout) {
    Thread watchdog =
        new Thread(
            () -> {
              try {
                Thread.sleep(timeout.toMillis());
              } catch (InterruptedException e) {
                return;
              }
              NodeLog.error(
                  "whack node: did not stop within " + timeout.toSeconds() + " s; exiting anyway");
              Runtime.getRuntime().halt(Whack.EXIT_FAILED);
            },
            "whack-stop-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }

  /** ", TLS with <provider>, client certificates <mode>", or nothing for plaintext. */
  static String tlsSummary(WhackNode node) {
    if (node.tls() == null) {
      return "";
    }
    return ", TLS with "
        + node.tls().provider()
        + ", client certificates "
        + switch (node.tls().options().clientAuth()) {
          case NONE -> "not asked for";
          case OPTIONAL -> "optional";
          case REQUIRE -> "required";
        };
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
