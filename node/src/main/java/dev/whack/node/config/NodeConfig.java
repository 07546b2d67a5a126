package dev.whack.node.config;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.InstantSource;
import java.util.List;

/**
 * Everything a node is started with, set fluently and validated once by {@link #conclude()} before
 * any thread starts (the pattern of Aeron's {@code MediaDriver.Context}).
 */
public final class NodeConfig {
  public static final int DEFAULT_PORT = 11211;
  public static final String DEFAULT_BIND = "127.0.0.1";
  public static final long DEFAULT_MEMORY_BYTES = 1L << 30;
  public static final int DEFAULT_MAX_ITEM_SIZE = 1 << 20;
  public static final int DEFAULT_METRICS_PORT = 9211;
  public static final int DEFAULT_MAX_CONNECTIONS = 1024;

  /** How often expired profiles and due time-dependent memberships are processed. */
  public static final long DEFAULT_TIMER_PERIOD_MILLIS = 100;

  /** The change buffer all watchers read (--watch-buffer). */
  public static final int DEFAULT_WATCH_BUFFER_BYTES = 16 << 20;

  /** How long a watcher may stay lapped before it is disconnected (--watch-lapped-timeout). */
  public static final long DEFAULT_WATCH_LAPPED_TIMEOUT_MILLIS = 30_000;

  /** memcached refuses item size limits below 1 KiB. */
  public static final int MIN_ITEM_SIZE = 1024;

  /** How long a profile keeps a producer mark that does not advance (docs/profiles.md). */
  public static final long DEFAULT_PRODUCER_MARK_AGE_SECONDS = 30L * 86_400;

  /** What bulk work may take of the engine while live requests wait, in percent. */
  public static final int DEFAULT_BULK_SHARE_PERCENT = 20;

  private int port = DEFAULT_PORT;
  private String bind = DEFAULT_BIND;
  private long memoryBytes = DEFAULT_MEMORY_BYTES;
  private int maxItemSize = DEFAULT_MAX_ITEM_SIZE;
  private int metricsPort = DEFAULT_METRICS_PORT;
  private int grpcPort;
  private int httpPort;
  private int ioThreads = Runtime.getRuntime().availableProcessors();
  private int maxConnections = DEFAULT_MAX_CONNECTIONS;
  private long idleTimeoutMillis;
  private long timerPeriodMillis = DEFAULT_TIMER_PERIOD_MILLIS;
  private int watchBufferBytes = DEFAULT_WATCH_BUFFER_BYTES;
  private long watchLappedTimeoutMillis = DEFAULT_WATCH_LAPPED_TIMEOUT_MILLIS;
  private long producerMarkAgeSeconds = DEFAULT_PRODUCER_MARK_AGE_SECONDS;
  private java.nio.file.Path dataDir;
  private String fsync = "everysec";
  private boolean skipDamaged;
  private KafkaOptions kafka;
  private TlsOptions tls;
  private int bulkSharePercent = DEFAULT_BULK_SHARE_PERCENT;
  private long snapshotEverySeconds = 600;
  private long snapshotEveryWrites = 5_000_000;
  private List<String> peers = List.of();
  private String clusterName;
  private long sessionTimeoutMillis = DEFAULT_SESSION_TIMEOUT_MILLIS;
  private int replicas = 1;

  /** How long the group waits for a silent member of a managed cluster before moving its slots. */
  public static final long DEFAULT_SESSION_TIMEOUT_MILLIS = 10_000;

  private String advertise;
  private java.nio.file.Path authFile;
  private boolean insecurePlaintext;
  private String memberUser;
  private java.nio.file.Path memberPasswordFile;
  private InstantSource clock = InstantSource.system();
  private ByteBufAllocator allocator = PooledByteBufAllocator.DEFAULT;
  private boolean concluded;

  public NodeConfig port(int port) {
    this.port = port;
    return this;
  }

  public NodeConfig bind(String bind) {
    this.bind = bind;
    return this;
  }

  public NodeConfig memoryBytes(long memoryBytes) {
    this.memoryBytes = memoryBytes;
    return this;
  }

  public NodeConfig maxItemSize(int maxItemSize) {
    this.maxItemSize = maxItemSize;
    return this;
  }

  /** 0 turns the Prometheus endpoint off. */
  public NodeConfig metricsPort(int metricsPort) {
    this.metricsPort = metricsPort;
    return this;
  }

  /** The gRPC port (docs/grpc.md); 0, the default, turns it off. */
  public NodeConfig grpcPort(int grpcPort) {
    this.grpcPort = grpcPort;
    return this;
  }

  /** The REST read API's port (docs/http.md); 0, the default, turns it off. */
  public NodeConfig httpPort(int httpPort) {
    this.httpPort = httpPort;
    return this;
  }

  public NodeConfig ioThreads(int ioThreads) {
    this.ioThreads = ioThreads;
    return this;
  }

  public NodeConfig maxConnections(int maxConnections) {
    this.maxConnections = maxConnections;
    return this;
  }

  /**
   * Close a connection after this long without a completed request (memcached's {@code -o
   * idle_timeout}, given in seconds on the command line); 0, the default as in memcached, never.
   */
  public NodeConfig idleTimeoutMillis(long idleTimeoutMillis) {
    this.idleTimeoutMillis = idleTimeoutMillis;
    return this;
  }

  /**
   * How often the node's timer removes expired profiles and re-evaluates time-dependent
   * memberships; 0 turns the background timer off (tests on a manual clock then drive it with
   * {@code WhackNode.runTimers()}).
   */
  public NodeConfig timerPeriodMillis(long timerPeriodMillis) {
    this.timerPeriodMillis = timerPeriodMillis;
    return this;
  }

  /**
   * Bytes of the change buffer that every watcher of this node reads (a power of two, default 16
   * MiB): how far a watcher can fall behind before it loses the oldest changes, whatever the number
   * of watchers.
   */
  public NodeConfig watchBufferBytes(int watchBufferBytes) {
    this.watchBufferBytes = watchBufferBytes;
    return this;
  }

  /**
   * How long a watcher may stay lapped (losing changes, or not reading while the change buffer laps
   * it) before the node tells it why and closes its connection (default 30 s).
   */
  public NodeConfig watchLappedTimeoutMillis(long watchLappedTimeoutMillis) {
    this.watchLappedTimeoutMillis = watchLappedTimeoutMillis;
    return this;
  }

  /**
   * The cluster's members as {@code host:port} (this node may be among them); with none, the node
   * is alone and owns every key.
   */
  public NodeConfig peers(List<String> peers) {
    this.peers = List.copyOf(peers);
    return this;
  }

  /**
   * Makes the node a member of the Kafka-managed cluster of this name (docs/cluster.md): its
   * members are the consumer group {@code whack-cluster.<name>} on the updates topic, which owns
   * the keys by slot. Null (the default): not managed.
   */
  public NodeConfig cluster(String clusterName) {
    this.clusterName = clusterName;
    return this;
  }

  /**
   * How many other members of a managed cluster keep each slot's profiles warm (standby replicas,
   * default 1), so that a member's failure hands its slots to a standby rather than to a refill.
   */
  public NodeConfig replicas(int replicas) {
    this.replicas = replicas;
    return this;
  }

  /** The group's session timeout for a managed cluster: its failure detector. */
  public NodeConfig sessionTimeoutMillis(long sessionTimeoutMillis) {
    this.sessionTimeoutMillis = sessionTimeoutMillis;
    return this;
  }

  /** This node's {@code host:port} as its peers know it; default: the bind address and port. */
  public NodeConfig advertise(String advertise) {
    this.advertise = advertise;
    return this;
  }

  /**
   * The users and their roles (docs/security.md, "Authentication and roles"); null, the default,
   * leaves every port open to anyone who can reach it, as memcached without {@code -Y}.
   */
  public NodeConfig authFile(java.nio.file.Path authFile) {
    this.authFile = authFile;
    return this;
  }

  /** The auth file, or null when authentication is off. */
  public java.nio.file.Path authFile() {
    return authFile;
  }

  /**
   * With an auth file, allow listening on an address other than loopback without TLS: passwords and
   * data then cross the network in the clear. The operator's explicit choice.
   */
  public NodeConfig insecurePlaintext(boolean insecurePlaintext) {
    this.insecurePlaintext = insecurePlaintext;
    return this;
  }

  public boolean insecurePlaintext() {
    return insecurePlaintext;
  }

  /**
   * The user this node authenticates as to its cluster's other members, and the file holding its
   * password (its first line); both null when the members need no credentials.
   */
  public NodeConfig memberCredentials(String user, java.nio.file.Path passwordFile) {
    this.memberUser = user;
    this.memberPasswordFile = passwordFile;
    return this;
  }

  public String memberUser() {
    return memberUser;
  }

  public java.nio.file.Path memberPasswordFile() {
    return memberPasswordFile;
  }

  /** Whether the node's ports speak TLS ({@code --tls-cert}): what the auth bind check asks. */
  public boolean tlsEnabled() {
    return tls() != null;
  }

  public NodeConfig clock(InstantSource clock) {
    this.clock = clock;
    return this;
  }

  /**
   * Where connections take their network buffers from: Netty's pooled direct allocator unless a
   * test injects one that fails, to see what a node does when memory runs out.
   */
  public NodeConfig allocator(ByteBufAllocator allocator) {
    this.allocator = allocator;
    return this;
  }

  /**
   * How long a profile keeps a producer mark that does not advance; after that a replay of that
   * producer's updates applies again (docs/profiles.md, "Limits").
   */
  public NodeConfig producerMarkAgeSeconds(long seconds) {
    this.producerMarkAgeSeconds = seconds;
    return this;
  }

  /**
   * Where the node keeps its log (docs/architecture.md, "Durability"); null (the default) keeps
   * everything in memory only.
   */
  public NodeConfig dataDir(java.nio.file.Path dataDir) {
    this.dataDir = dataDir;
    return this;
  }

  /** When the log is forced to disk: {@code always}, {@code everysec} (default) or {@code no}. */
  public NodeConfig fsync(String fsync) {
    this.fsync = fsync;
    return this;
  }

  /**
   * At start-up, pass over a damaged part of a snapshot or log (its writes are lost and reported)
   * instead of refusing to start: the operator's explicit choice after a refusal.
   */
  public NodeConfig skipDamaged(boolean skip) {
    this.skipDamaged = skip;
    return this;
  }

  public boolean skipDamaged() {
    return skipDamaged;
  }

  /**
   * The share of the engine's time bulk work (a Kafka backlog) may take while live requests are
   * waiting, in percent (docs/kafka.md, "Live over bulk"); 100 turns the limit off.
   */
  public NodeConfig bulkSharePercent(int percent) {
    this.bulkSharePercent = percent;
    return this;
  }

  public int bulkSharePercent() {
    return bulkSharePercent;
  }

  /**
   * Speak TLS on every port but metrics and to the other members (docs/security.md); null (the
   * default) speaks plaintext.
   */
  public NodeConfig tls(TlsOptions tls) {
    this.tls = tls;
    return this;
  }

  /** The TLS settings, or null for plaintext. */
  public TlsOptions tls() {
    return tls;
  }

  /** Consume updates from Kafka (docs/kafka.md); null (the default) reads none. */
  public NodeConfig kafka(KafkaOptions kafka) {
    this.kafka = kafka;
    return this;
  }

  public KafkaOptions kafka() {
    return kafka;
  }

  /**
   * With a data directory, when the node takes a snapshot by itself: once this many seconds have
   * passed since the last one, or this many writes were logged since, whichever comes first; 0
   * turns either off. Default 10 minutes or 5,000,000 writes.
   */
  public NodeConfig snapshotEvery(long seconds, long writes) {
    this.snapshotEverySeconds = seconds;
    this.snapshotEveryWrites = writes;
    return this;
  }

  /**
   * Parses {@code --snapshot-every}: a duration ({@code 10m}), a number of writes ({@code
   * 5000000writes}), both separated by a comma, or {@code off}; returns {seconds, writes}, 0 for
   * off.
   */
  public static long[] parseSnapshotEvery(String text) {
    long[] every = {0, 0};
    String t = text == null ? "" : text.trim().toLowerCase(java.util.Locale.ROOT);
    if (t.equals("off")) {
      return every;
    }
    for (String part : t.split(",", -1)) {
      String p = part.trim();
      if (p.endsWith("writes")) {
        try {
          every[1] = Long.parseLong(p.substring(0, p.length() - "writes".length()).trim());
        } catch (NumberFormatException e) {
          every[1] = -1;
        }
        if (every[1] <= 0) {
          throw new IllegalArgumentException(
              "not a number of writes (try 5000000writes): " + part.trim());
        }
      } else {
        every[0] = parseSeconds(p);
        if (every[0] == 0) {
          throw new IllegalArgumentException(
              "a snapshot period must be positive (or say off): " + part.trim());
        }
      }
    }
    return every;
  }

  /** Validates every setting; the node calls this before it starts anything. */
  public NodeConfig conclude() {
    require(port >= 0 && port <= 65535, "port must be 0..65535 (0 picks a free port): " + port);
    require(
        metricsPort >= 0 && metricsPort <= 65535,
        "metrics port must be 0..65535 (0 turns metrics off): " + metricsPort);
    require(
        grpcPort >= 0 && grpcPort <= 65535,
        "gRPC port must be 0..65535 (0 turns gRPC off): " + grpcPort);
    require(
        httpPort >= 0 && httpPort <= 65535,
        "HTTP port must be 0..65535 (0 turns the HTTP API off): " + httpPort);
    require(bind != null && !bind.isBlank(), "bind address must not be empty");
    require(ioThreads >= 1, "io threads must be at least 1: " + ioThreads);
    require(maxConnections >= 1, "max connections must be at least 1: " + maxConnections);
    require(timerPeriodMillis >= 0, "timer period must not be negative: " + timerPeriodMillis);
    require(
        idleTimeoutMillis >= 0,
        "idle timeout must not be negative (0 turns it off): " + idleTimeoutMillis);
    for (String peer : peers) {
      require(isHostPort(peer), "a peer is host:port: " + peer);
    }
    require(
        advertise == null || isHostPort(advertise),
        "the advertised address is host:port: " + advertise);
    require(
        clusterName == null || peers.isEmpty(),
        "--cluster (members from Kafka) and --peers (a static member list) exclude each other");
    require(
        clusterName == null || (kafka != null && kafka.updatesTopic() != null),
        "--cluster needs --kafka-bootstrap and --kafka-updates: the updates topic's partitions are"
            + " the cluster's slots");
    require(
        clusterName == null || KafkaOptions.validTopic("whack-cluster." + clusterName),
        "--cluster must be a name of a-z A-Z 0-9 . _ -: " + clusterName);
    require(replicas >= 0 && replicas <= 8, "--replicas must be from 0 to 8: " + replicas);
    require(
        sessionTimeoutMillis >= 1000 && sessionTimeoutMillis <= 3_600_000,
        "the session timeout must be from 1s to 1h: " + sessionTimeoutMillis + " ms");
    boolean clustered = !peers.isEmpty() || clusterName != null;
    require(
        !clustered || advertise != null || port != 0,
        "a clustered node on a random port needs --advertise");
    require(
        !clustered || advertise != null || !isWildcard(bind),
        "a clustered node bound to "
            + bind
            + " needs --advertise: its peers cannot know it as "
            + bind
            + ":"
            + port);
    require(
        Integer.bitCount(watchBufferBytes) == 1
            && watchBufferBytes >= 64 * 1024
            && watchBufferBytes <= 1 << 30,
        "the watch buffer must be a power of two from 64k to 1g (e.g. 16m): " + watchBufferBytes);
    require(
        watchLappedTimeoutMillis > 0,
        "the watch lapped timeout must be positive: " + watchLappedTimeoutMillis + " ms");
    require(
        kafka == null || kafka.profilesTopic() == null || peers.isEmpty(),
        "--kafka-profiles with --peers is not built yet (docs/kafka.md, \"Refill\")");
    require(
        bulkSharePercent >= 1 && bulkSharePercent <= 100,
        "the bulk share must be from 1 to 100 percent: " + bulkSharePercent);
    require(clock != null, "clock must be set");
    require(allocator != null, "allocator must be set");
    require(
        fsync != null && (fsync.equals("always") || fsync.equals("everysec") || fsync.equals("no")),
        "fsync must be always, everysec or no: " + fsync);
    require(
        snapshotEverySeconds >= 0 && snapshotEveryWrites >= 0,
        "snapshot periods must not be negative (0 turns one off)");
    require(
        producerMarkAgeSeconds >= 1,
        "producer mark age must be at least a second: " + producerMarkAgeSeconds);
    require(
        maxItemSize >= MIN_ITEM_SIZE,
        "max item size must be at least " + MIN_ITEM_SIZE + " bytes: " + maxItemSize);
    require(
        memoryBytes >= 2L * maxItemSize,
        "memory must be at least twice the max item size ("
            + 2L * maxItemSize
            + " bytes): "
            + memoryBytes);
    require(
        (memberUser == null) == (memberPasswordFile == null),
        "--member-user and --member-password-file go together");
    require(
        authFile == null || (peers.isEmpty() && clusterName == null) || memberUser != null,
        "--auth-file in a cluster needs --member-user and --member-password-file: the user, of"
            + " role admin, this node authenticates as to the other members (docs/security.md)");
    require(
        memberUser == null || authFile != null,
        "--member-user goes with --auth-file: members without one ask for no credentials");
    require(
        authFile == null || insecurePlaintext || tlsEnabled() || isLoopback(bind),
        "with --auth-file the node listens on "
            + bind
            + " only with TLS, or with --insecure-plaintext to send passwords and data in the"
            + " clear; or bind a loopback address (127.0.0.1)");
    concluded = true;
    return this;
  }

  public int port() {
    return port;
  }

  public long producerMarkAgeSeconds() {
    return producerMarkAgeSeconds;
  }

  /** The data directory, or null for a node in memory only. */
  public java.nio.file.Path dataDir() {
    return dataDir;
  }

  public String fsync() {
    return fsync;
  }

  /** Seconds between automatic snapshots, or 0 for none by time. */
  public long snapshotEverySeconds() {
    return snapshotEverySeconds;
  }

  /** Logged writes between automatic snapshots, or 0 for none by writes. */
  public long snapshotEveryWrites() {
    return snapshotEveryWrites;
  }

  public String bind() {
    return bind;
  }

  public long memoryBytes() {
    return memoryBytes;
  }

  public int maxItemSize() {
    return maxItemSize;
  }

  public int metricsPort() {
    return metricsPort;
  }

  public int grpcPort() {
    return grpcPort;
  }

  /** The REST read API's port, or 0 when it is off. */
  public int httpPort() {
    return httpPort;
  }

  public int ioThreads() {
    return ioThreads;
  }

  /** The managed cluster's name, or null. */
  public String clusterName() {
    return clusterName;
  }

  public int replicas() {
    return replicas;
  }

  public long sessionTimeoutMillis() {
    return sessionTimeoutMillis;
  }

  public List<String> peers() {
    return peers;
  }

  /** This node's member name: --advertise, else bind:port. */
  public String advertise() {
    return advertise != null ? advertise : bind + ":" + port;
  }

  /**
   * Whether {@code address} is a loopback address (127.0.0.0/8, ::1, localhost), where nothing
   * crosses a network. A name is resolved: one that does not resolve is not loopback.
   */
  static boolean isLoopback(String address) {
    String a =
        address.startsWith("[") && address.endsWith("]")
            ? address.substring(1, address.length() - 1)
            : address;
    try {
      for (java.net.InetAddress resolved : java.net.InetAddress.getAllByName(a)) {
        if (!resolved.isLoopbackAddress()) {
          return false;
        }
      }
      return true;
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  /** An address that means "every interface" rather than one a peer could connect to. */
  private static boolean isWildcard(String address) {
    return address.equals("0.0.0.0") || address.equals("::") || address.equals("[::]");
  }

  private static boolean isHostPort(String s) {
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      return false;
    }
    try {
      int p = Integer.parseInt(s.substring(colon + 1));
      return p > 0 && p <= 65535;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  public long timerPeriodMillis() {
    return timerPeriodMillis;
  }

  public int maxConnections() {
    return maxConnections;
  }

  /** 0 when idle connections are never closed. */
  public long idleTimeoutMillis() {
    return idleTimeoutMillis;
  }

  public InstantSource clock() {
    return clock;
  }

  public int watchBufferBytes() {
    return watchBufferBytes;
  }

  public long watchLappedTimeoutMillis() {
    return watchLappedTimeoutMillis;
  }

  public ByteBufAllocator allocator() {
    return allocator;
  }

  public boolean isConcluded() {
    return concluded;
  }

  /**
   * A duration as a count of seconds ({@code 3600}) or with a unit: {@code s}, {@code m}, {@code h}
   * or {@code d} ({@code 90m}, {@code 30d}).
   */
  public static long parseSeconds(String text) {
    String t = text == null ? "" : text.trim();
    if (t.isEmpty()) {
      throw new IllegalArgumentException("empty duration");
    }
    long unit =
        switch (Character.toLowerCase(t.charAt(t.length() - 1))) {
          case 's' -> 1;
          case 'm' -> 60;
          case 'h' -> 3_600;
          case 'd' -> 86_400;
          default -> 0;
        };
    String digits = unit == 0 ? t : t.substring(0, t.length() - 1);
    try {
      long n = Long.parseLong(digits);
      if (n < 0) {
        throw new IllegalArgumentException("duration must not be negative: " + text);
      }
      return Math.multiplyExact(n, unit == 0 ? 1 : unit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("not a duration (try 3600, 90m, 12h or 30d): " + text, e);
    }
  }

  /**
   * Parses a size such as {@code 64m}, {@code 1g}, {@code 512k} or a plain byte count; units are
   * powers of 1024.
   */
  public static long parseSize(String text) {
    String s = text.trim().toLowerCase(java.util.Locale.ROOT);
    if (s.isEmpty()) {
      throw new IllegalArgumentException("empty size");
    }
    long multiplier = 1;
    char unit = s.charAt(s.length() - 1);
    if (unit == 'b') {
      s = s.substring(0, s.length() - 1);
      unit = s.isEmpty() ? 'x' : s.charAt(s.length() - 1);
    }
    switch (unit) {
      case 'k' -> multiplier = 1L << 10;
      case 'm' -> multiplier = 1L << 20;
      case 'g' -> multiplier = 1L << 30;
      case 't' -> multiplier = 1L << 40;
      default -> {}
    }
    if (multiplier != 1) {
      s = s.substring(0, s.length() - 1);
    }
    try {
      long value = Long.parseLong(s);
      if (value < 0) {
        throw new IllegalArgumentException("size must not be negative: " + text);
      }
      return Math.multiplyExact(value, multiplier);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("not a size (try 64m, 1g or a byte count): " + text, e);
    }
  }

  /**
   * Parses a duration such as {@code 30s}, {@code 500ms}, {@code 2m}, {@code 1h}, or a plain number
   * of seconds, into milliseconds.
   */
  public static long parseDurationMillis(String text) {
    String s = text.trim().toLowerCase(java.util.Locale.ROOT);
    long unit = 1000;
    String digits = s;
    if (s.endsWith("ms")) {
      unit = 1;
      digits = s.substring(0, s.length() - 2);
    } else if (s.endsWith("s")) {
      digits = s.substring(0, s.length() - 1);
    } else if (s.endsWith("m")) {
      unit = 60_000;
      digits = s.substring(0, s.length() - 1);
    } else if (s.endsWith("h")) {
      unit = 3_600_000;
      digits = s.substring(0, s.length() - 1);
    }
    try {
      long value = Long.parseLong(digits);
      if (value < 0) {
        throw new IllegalArgumentException("a duration must not be negative: " + text);
      }
      return Math.multiplyExact(value, unit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "not a duration (try 30s, 500ms, 2m or a number of seconds): " + text, e);
    }
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
