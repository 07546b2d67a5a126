package dev.whack.node;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.cluster.MemberCheck;
import dev.whack.node.config.NodeConfig;
import dev.whack.node.durability.CorruptLogException;
import dev.whack.node.durability.Durability;
import dev.whack.node.durability.DurableLog;
import dev.whack.node.durability.ReplayClock;
import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.grpc.GrpcServer;
import dev.whack.node.http.HttpApiServer;
import dev.whack.node.kafka.ChangePublisher;
import dev.whack.node.kafka.LoggedChangePublisher;
import dev.whack.node.kafka.LoggedWrites;
import dev.whack.node.kafka.ProfilesTopic;
import dev.whack.node.kafka.StandbyReplica;
import dev.whack.node.kafka.StreamChangePublisher;
import dev.whack.node.kafka.UpdateSource;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.observability.NodeLog;
import dev.whack.node.observability.NodeMetrics;
import dev.whack.node.observability.NodeStats;
import dev.whack.node.observability.StatsReport;
import dev.whack.node.observability.Watchers;
import dev.whack.node.protocol.ProtocolContext;
import dev.whack.node.security.Authenticator;
import dev.whack.node.server.ConnectionTracker;
import dev.whack.node.server.WhackServer;
import dev.whack.node.tenant.Tenant;
import dev.whack.node.tenant.TenantConnections;
import dev.whack.node.tenant.TenantQuota;
import dev.whack.node.tenant.Tenants;
import dev.whack.node.tls.ServerTls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A running Whack node: the composition root that wires the keyspace, statistics, metrics and the
 * memcached port together by hand, from a concluded {@link NodeConfig}.
 */
public final class WhackNode implements AutoCloseable {
  /** The memcached version whose behaviour Whack follows, reported by {@code version}. */
  public static final String VERSION = "1.6.18-whack-" + Versions.WHACK;

  private final NodeConfig config;

  /** memcached's key limit, which profile keys share. */
  private static final int KEY_MAX_BYTES = 250;

  /** How long a key forwarded to its owner may take before the client is told it failed. */
  private static final Duration FORWARD_TIMEOUT = Duration.ofSeconds(2);

  /** How often peers not yet heard from are asked for their member list. */
  private static final long MEMBER_CHECK_PERIOD_MILLIS = 1000;

  private final ProfileEngine engine;
  private final Cluster cluster;
  private final MemberCheck memberCheck;
  private final java.util.concurrent.atomic.AtomicBoolean closed =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final Keyspace keyspace;
  private final Watchers watchers;
  private final ScheduledExecutorService timers;
  private final NodeStats stats;
  private final NodeMetrics metrics;
  private final WhackServer server;
  private final int metricsPort;

  /** The warm copies this managed member keeps of others' slots, or null. */
  private final StandbyReplica standbys;

  /** A managed member's profile writes through the updates topic, or null. */
  private final LoggedWrites loggedWrites;

  /** The Kafka consumer of updates, or null when the node reads none. */
  private final UpdateSource kafkaSource;

  /** The compacted topic of whole profiles this node keeps, or null. */
  private final ProfilesTopic profilesTopic;

  /** The gRPC port's server, or null when it is off. */
  private final GrpcServer grpc;

  /** The REST read API's server, or null when it is off. */
  private final HttpApiServer http;

  /** Whether the node holds no state of its own yet: Kafka is read from the start (or a refill). */
  private final boolean startsEmpty;

  /** Where a refill from the profiles topic left each updates partition, or null. */
  private final Map<Integer, Long> refilledTo;

  /** The publisher of segment changes to Kafka, or null when the node publishes none. */
  private final ChangePublisher changePublisher;

  /** The data directory's log, or null for a node in memory only. */
  private final Durability durability;

  /** The node's TLS, or null when it speaks plaintext. */
  private final ServerTls tls;

  /** What SIGHUP runs for this node (the TLS reload), or null. */
  private final Runnable onHangup;

  /** How often the TLS files are looked at for a change. */
  private static final long TLS_POLL_MILLIS = 2000;

  /** The users and their roles ({@code --auth-file}), or null when authentication is off. */
  private final Authenticator auth;

  /** The default tenant (this node's own keyspace) and those {@code tenant create} made. */
  private final Tenants tenants;

  /** Where other tenants' data lives in the data directory. */
  static final String TENANTS_DIR = "tenants";

  /**
   * How long a managed member that stops waits for its slots to be handed off (the members taking
   * them warm their copies meanwhile) before it leaves anyway.
   */
  private static final Duration HAND_OFF_TIMEOUT = Duration.ofSeconds(60);

  private WhackNode(NodeConfig config) throws InterruptedException {
    this.config = config;
    // First, before the data directory is locked or anything listens: bad files stop the start.
    this.tls = config.tls() == null ? null : ServerTls.start(config.tls(), WhackNode::logTls);
    // Users too: a bad auth file stops the start before anything else is opened.
    this.auth = config.authFile() == null ? null : Authenticator.load(config.authFile());
    Cluster.MemberLogin memberLogin;
    try {
      memberLogin = memberLogin(config, auth);
    } catch (RuntimeException e) {
      if (auth != null) {
        auth.close();
      }
      throw e;
    }
    ReplayClock engineClock = new ReplayClock(config.clock());
    this.engine = new ProfileEngine(engineConfig(config, engineClock));
    this.keyspace =
        new Keyspace(config.clock(), config.memoryBytes(), config.maxItemSize(), engine);
    this.durability = openDataDir(config, keyspace, engine, engineClock);
    this.startsEmpty = startsEmpty(config);
    this.refilledTo = refillFromKafka(config);
    this.stats = new NodeStats(config.clock().millis());
    this.metrics = new NodeMetrics(stats, keyspace);
    ConnectionTracker tracker =
        new ConnectionTracker(
            stats, config.maxConnections(), config.idleTimeoutMillis(), config.clock()::millis);
    WhackServer[] serverRef = new WhackServer[1];
    StatsReport report =
        new StatsReport(
                config,
                keyspace,
                stats,
                // The default tenant's connections: every one until it logs into another tenant.
                new TenantConnections(tracker, this::defaultTenantOrNull),
                VERSION,
                () -> serverRef[0].port())
            .withEngine(engine)
            .withDurability(durability);
    if (config.clusterName() != null) {
      this.cluster =
          Cluster.managed(
              config.advertise(),
              FORWARD_TIMEOUT,
              Duration.ofMillis(config.sessionTimeoutMillis()),
              tls == null ? null : tls.peers(),
              memberLogin);
      this.memberCheck = null; // the group is the member list: nothing to disagree on
      // Also with --replicas 0: a slot moving here is warmed up in it before it moves.
      this.standbys =
          new StandbyReplica(
              config.kafka(),
              config.clock(),
              config.memoryBytes(),
              config.maxItemSize(),
              config.advertise(),
              key -> cluster.map().slotOf(key, 0, key.length));
      // Profile writes of memcached clients go through the updates topic, so that the standby
      // copies get them and a move or a kill loses none (docs/cluster.md).
      this.loggedWrites =
          new LoggedWrites(config.kafka().bootstrap(), config.kafka().updatesTopic(), cluster);
      cluster.useUpdatesLog(loggedWrites);
      cluster.useKeyMover(standbys::moveIfHandingOver);
      report.withClusterStats(this::managedClusterStats);
      cluster.onInstalled(this::adoptSegmentsOnce);
    } else {
      this.cluster =
          config.peers().isEmpty()
              ? Cluster.single(config.advertise())
              : Cluster.of(
                  config.advertise(),
                  config.peers(),
                  FORWARD_TIMEOUT,
                  tls == null ? null : tls.peers(),
                  memberLogin);
      this.memberCheck = MemberCheck.of(cluster, WhackNode::logMemberCheck);
      this.standbys = null;
      this.loggedWrites = null;
      report.withClusterStats(memberCheck::stats);
    }
    this.watchers = new Watchers(config.clock(), config.watchLappedTimeoutMillis());
    metrics.bindProfiles(engine, stats, watchers);
    if (loggedWrites != null) {
      metrics.bindManagedCluster(cluster, standbys, loggedWrites);
    }
    if (durability != null) {
      metrics.bindDurability(durability);
    }
    ProtocolContext nodeContext =
        new ProtocolContext(
            keyspace, engine, stats, metrics, report, watchers, cluster, VERSION, durability, auth);
    this.tenants =
        new Tenants(
            nodeContext,
            new Tenant.Parts(keyspace, engine, stats, report, watchers, durability),
            new TenantOpener(tracker, () -> serverRef[0].port()),
            config.dataDir() == null ? null : config.dataDir().resolve(TENANTS_DIR),
            tenantsRefusal(config));
    try {
      int saved = tenants.openSaved();
      if (saved > 0) {
        NodeLog.info("whack node: opened " + saved + " tenant" + (saved == 1 ? "" : "s"));
      }
    } catch (IOException e) {
      close();
      throw new UncheckedIOException(
          "cannot open the tenants in " + config.dataDir() + ": " + e.getMessage(), e);
    }
    metrics.bindTenants(
        () ->
            tenants.list().stream()
                .map(
                    t ->
                        new NodeMetrics.TenantFigures(
                            t.name(),
                            t.parts().keyspace().itemCount(),
                            t.parts().keyspace().bytesUsed(),
                            t.connections().size(),
                            t.parts().engine().segments().size(),
                            t.overRateCount(),
                            t.pausedReads().sum()))
                .toList());
    // Every connection starts in the default tenant; a login moves it into its user's.
    ProtocolContext context = tenants.defaultTenant().context();
    this.timers =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "whack-timers");
              t.setDaemon(true);
              return t;
            });
    long period = config.timerPeriodMillis();
    if (period > 0) {
      timers.scheduleWithFixedDelay(this::runTimersQuietly, period, period, TimeUnit.MILLISECONDS);
    }
    // Kafka before the server: the profiles topic tracks every change and the changes publisher
    // reads every change from the first client's write on.
    this.changePublisher =
        config.kafka() == null || config.kafka().changesTopic() == null
            ? null
            : startChangePublisher(config);
    this.kafkaSource =
        config.kafka() == null || config.kafka().updatesTopic() == null
            ? null
            : kafkaSource(config);
    this.profilesTopic =
        config.kafka() == null || config.kafka().profilesTopic() == null
            ? null
            : profilesTopic(config);
    if (profilesTopic != null && cluster.isManaged()) {
      // The topic is the slots' changelog: a slot or a copy with no warm copy to start from is
      // restored from it (docs/cluster.md, "Restore from the profiles topic").
      kafkaSource.restoresFrom(profilesTopic);
      standbys.restoresFrom(profilesTopic);
    }
    if (profilesTopic != null) {
      profilesTopic.start(); // changes are tracked before the first record applies
    }
    if (kafkaSource != null) {
      kafkaSource.start();
    }
    try {
      serverRef[0] =
          new WhackServer(
              config.bind(),
              config.port(),
              config.ioThreads(),
              config.allocator(),
              context,
              tracker,
              tls);
    } catch (UncheckedIOException e) {
      close();
      throw cannotListen(config.bind(), config.port(), "memcached", "--port", e.getCause());
    }
    this.server = serverRef[0];
    try {
      this.metricsPort =
          config.metricsPort() == 0 ? 0 : metrics.serve(config.bind(), config.metricsPort());
    } catch (IOException e) {
      close();
      throw cannotListen(config.bind(), config.metricsPort(), "metrics", "--metrics-port", e);
    }
    try {
      this.grpc =
          config.grpcPort() == 0
              ? null
              : new GrpcServer(
                  config.bind(), config.grpcPort(), config.maxItemSize(), context, tls);
    } catch (UncheckedIOException e) {
      close();
      throw cannotListen(config.bind(), config.grpcPort(), "gRPC", "--grpc-port", e.getCause());
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    try {
      this.http =
          config.httpPort() == 0
              ? null
              : new HttpApiServer(
                  config.bind(),
                  config.httpPort(),
                  config.ioThreads(),
                  config.maxConnections(),
                  context,
                  tls);
    } catch (UncheckedIOException e) {
      close();
      throw cannotListen(config.bind(), config.httpPort(), "HTTP", "--http-port", e.getCause());
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    timers.scheduleWithFixedDelay(
        this::balanceTenantsQuietly,
        Tenants.BALANCE_PERIOD_MILLIS,
        Tenants.BALANCE_PERIOD_MILLIS,
        TimeUnit.MILLISECONDS);
    if (durability != null
        && (config.snapshotEverySeconds() > 0 || config.snapshotEveryWrites() > 0)) {
      timers.scheduleWithFixedDelay(this::snapshotIfDue, 1, 1, TimeUnit.SECONDS);
    }
    if (memberCheck != null && cluster.isClustered()) {
      timers.scheduleWithFixedDelay(
          this::checkMembersQuietly, 0, MEMBER_CHECK_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }
    if (tls != null) {
      this.onHangup = () -> tls.reload("SIGHUP");
      Hangup.register(onHangup);
      timers.scheduleWithFixedDelay(
          this::reloadTlsIfChanged, TLS_POLL_MILLIS, TLS_POLL_MILLIS, TimeUnit.MILLISECONDS);
    } else {
      this.onHangup = null;
    }
  }

  private void reloadTlsIfChanged() {
    try {
      tls.reloadIfChanged();
    } catch (RuntimeException e) {
      NodeLog.warn("whack node: TLS file check failed: " + e);
    }
  }

  /**
   * Reads the TLS files again now, as SIGHUP does; new connections then use them, unless a file is
   * bad (the old certificate stays, and the log says why).
   *
   * @return whether the new files are in use
   * @throws IllegalStateException when the node speaks no TLS
   */
  public boolean reloadTls() {
    if (tls == null) {
      throw new IllegalStateException("this node speaks no TLS");
    }
    return tls.reload("asked");
  }

  /** The node's TLS, or null when it speaks plaintext. */
  public ServerTls tls() {
    return tls;
  }

  /** Starts publishing segment changes to Kafka (before any update is consumed from it). */
  private ChangePublisher startChangePublisher(NodeConfig config) {
    ChangePublisher publisher;
    if (durability != null) {
      publisher = new LoggedChangePublisher(config.kafka(), durability.startRecordingChanges());
    } else {
      publisher = new StreamChangePublisher(config.kafka(), engine);
    }
    metrics.bindChangePublisher(publisher);
    publisher.start();
    return publisher;
  }

  /**
   * Refills an empty node from the profiles topic, before it serves, and says where each partition
   * of the updates topic is followed from (docs/kafka.md, "Refill"); null when there is no refill.
   */
  private Map<Integer, Long> refillFromKafka(NodeConfig config) {
    if (config.kafka() == null
        || config.kafka().profilesTopic() == null
        || !startsEmpty
        || config.clusterName() != null) {
      return null; // a managed member restores the slots it is given, each from its partition
    }
    long start = System.nanoTime();
    ProfilesTopic.Refilled counts = new ProfilesTopic.Refilled();
    Map<Integer, Long> positions =
        ProfilesTopic.refill(
            config.kafka().bootstrap(),
            config.kafka().profilesTopic(),
            String.valueOf(config.kafka().updatesTopic()),
            keyspace,
            durability == null ? null : durability.log(),
            counts);
    NodeLog.info(
        String.format(
            java.util.Locale.ROOT,
            "whack node: refilled %d profile records from %s in %.1f s (%d refused); following %s"
                + " from %s",
            counts.profiles.get(),
            config.kafka().profilesTopic(),
            (System.nanoTime() - start) / 1e9,
            counts.refused.get(),
            config.kafka().updatesTopic() == null
                ? "no updates topic"
                : config.kafka().updatesTopic(),
            positions.isEmpty() ? "the beginning" : positions));
    return positions;
  }

  /**
   * Whether the node starts with no state of its own for Kafka: in memory only, nothing recovered,
   * or an empty start whose starting point was not yet committed when the node last stopped ({@link
   * UpdateSource#STARTING_FILE}, made here and removed by the source once committed).
   */
  private boolean startsEmpty(NodeConfig config) {
    if (durability == null) {
      return true;
    }
    java.nio.file.Path starting = config.dataDir().resolve(UpdateSource.STARTING_FILE);
    boolean empty =
        Files.exists(starting)
            || (durability.recovered().snapshotRecords() == 0
                && durability.recovered().logRecords() == 0);
    if (empty && config.kafka() != null && config.kafka().updatesTopic() != null) {
      try {
        Files.writeString(starting, "started empty: reading Kafka from the start\n");
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + starting + ": " + e.getMessage(), e);
      }
    }
    return empty;
  }

  /**
   * The consumer of updates from Kafka, not started: from where a refill left each partition, else
   * from the beginning when the node holds nothing yet (docs/kafka.md).
   */
  private UpdateSource kafkaSource(NodeConfig config) {
    UpdateSource source;
    try {
      source =
          new UpdateSource(
              config.clusterName() == null
                  ? config.kafka()
                  : config.kafka().withGroup("whack-cluster." + config.clusterName()),
              keyspace,
              cluster,
              durability,
              config.dataDir(),
              startsEmpty,
              refilledTo,
              stats.bytesRead::sum,
              config.bulkSharePercent(),
              standbys,
              config.replicas(),
              loggedWrites);
    } catch (IOException e) {
      close();
      throw new UncheckedIOException(
          "cannot keep the Kafka member id in " + config.dataDir() + ": " + e.getMessage(), e);
    }
    metrics.bindKafkaSource(source);
    return source;
  }

  /**
   * The profiles topic this node keeps; a topic a managed cluster cannot use (the wrong partition
   * count) stops the start, closing what already runs.
   */
  private ProfilesTopic profilesTopic(NodeConfig config) {
    try {
      return new ProfilesTopic(
          config.kafka().bootstrap(),
          config.kafka().profilesTopic(),
          keyspace,
          engine.stripeLocks(),
          kafkaSource,
          config.kafka().updatesTopic(),
          Duration.ofMillis(config.kafka().profilesDelayMillis()),
          cluster);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** {@code stats cluster} of a managed member: its map in short, and its warm copies. */
  private void managedClusterStats(java.util.function.BiConsumer<String, String> sink) {
    cluster.managedStats(sink);
    if (standbys != null) {
      sink.accept("standby_slots", Integer.toString(standbys.lags().size()));
      sink.accept("standby_profiles", Long.toString(standbys.profiles()));
      sink.accept(
          "standby_lag", Long.toString(standbys.lags().values().stream().mapToLong(l -> l).sum()));
      sink.accept("standby_promoted", Long.toString(standbys.promoted()));
      StringBuilder lags = new StringBuilder();
      new java.util.TreeMap<>(standbys.lags())
          .forEach((slot, lag) -> lags.append(lags.isEmpty() ? "" : ",").append(slot + ":" + lag));
      if (!lags.isEmpty()) {
        sink.accept("standby_lags", lags.toString()); // slot:records behind, per copy kept here
      }
    }
    if (loggedWrites != null) {
      sink.accept("logged_writes", Long.toString(loggedWrites.written()));
      sink.accept("logged_writes_refused", Long.toString(loggedWrites.refused()));
    }
  }

  /**
   * A managed cluster's member takes the dimension and segment definitions its peers have once, at
   * the first map that gives it peers (it may have joined after they were defined); if no peer
   * could answer, at the next map.
   */
  private void adoptSegmentsOnce(dev.whack.client.ring.ClusterMap map) {
    if (map.members().size() < 2 || !segmentsAdopted.compareAndSet(false, true)) {
      return;
    }
    // Dimensions first: a segment may read one.
    new dev.whack.node.cluster.ClusterDimensions(cluster, engine)
        .adoptDefinitions()
        .thenCompose(
            dimensions -> {
              if (dimensions > 0) {
                NodeLog.info(
                    "whack node: took "
                        + dimensions
                        + " dimension definitions from the other members");
              }
              return new dev.whack.node.cluster.ClusterSegments(cluster, engine, keyspace.session())
                  .adoptDefinitions();
            })
        .whenComplete(
            (adopted, failure) -> {
              if (failure != null) {
                segmentsAdopted.set(false);
                NodeLog.warn(
                    "whack node: could not take the segment and dimension definitions from the"
                        + " other members: "
                        + failure.getMessage());
              } else if (adopted > 0) {
                NodeLog.info(
                    "whack node: took " + adopted + " segment definitions from the other members");
              }
            });
  }

  private final java.util.concurrent.atomic.AtomicBoolean segmentsAdopted =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** Starts a snapshot in the background when {@code --snapshot-every} says one is due. */
  private void snapshotIfDue() {
    for (Tenant tenant : tenants.list()) {
      Durability data = tenant.parts().durability();
      if (data != null
          && !tenant.dropped()
          && data.snapshotDue(config.snapshotEverySeconds(), config.snapshotEveryWrites())) {
        data.snapshotInBackground()
            .whenComplete(
                (taken, failure) -> {
                  if (failure != null) {
                    NodeLog.error(
                        "whack node: a snapshot"
                            + (tenant.isDefault() ? "" : " of tenant " + tenant.name())
                            + " failed: "
                            + failure.getMessage());
                  }
                });
      }
    }
  }

  /** The engine settings every tenant's engine shares. */
  private static EngineConfig engineConfig(NodeConfig config, ReplayClock clock) {
    return new EngineConfig()
        .clock(clock)
        .maxKeyBytes(KEY_MAX_BYTES)
        .maxValueBytes(config.maxItemSize())
        .changeBufferBytes(config.watchBufferBytes())
        .producerMarkAge(Duration.ofSeconds(config.producerMarkAgeSeconds()));
  }

  /** The default tenant, or null while the node is being made (no connection exists yet). */
  private Tenant defaultTenantOrNull() {
    return tenants == null ? null : tenants.defaultTenant();
  }

  /** Why this node cannot have tenants besides the default one, or null when it can. */
  private static String tenantsRefusal(NodeConfig config) {
    if (config.authFile() == null) {
      return "tenants need an auth file (--auth-file): a tenant's users are the only way into it";
    }
    if (config.clusterName() != null || !config.peers().isEmpty()) {
      return "tenants are for a single node: a cluster member serves the default tenant only";
    }
    if (config.kafka() != null) {
      return "tenants are not available on a node that reads or writes Kafka";
    }
    return null;
  }

  /**
   * Opens and closes the parts of a tenant besides the default one: an engine and keyspace of its
   * own with its quota's caps, its statistics, and with {@code --data-dir} a data directory of its
   * own under {@code tenants/<name>}, recovered as the node's is.
   */
  private final class TenantOpener implements Tenants.Opener {
    private final ConnectionTracker tracker;
    private final java.util.function.IntSupplier port;

    TenantOpener(ConnectionTracker tracker, java.util.function.IntSupplier port) {
      this.tracker = tracker;
      this.port = port;
    }

    @Override
    public Tenant.Parts open(String name, TenantQuota quota, java.nio.file.Path dir)
        throws IOException {
      ReplayClock clock = new ReplayClock(config.clock());
      ProfileEngine tenantEngine =
          new ProfileEngine(
              engineConfig(config, clock)
                  .maxSegments(quota.segments() == 0 ? TenantQuota.MAX_SEGMENTS : quota.segments())
                  .changeBufferBytes(changeBufferOf(quota)));
      Keyspace tenantKeys =
          new Keyspace(config.clock(), quota.memoryBytes(), config.maxItemSize(), tenantEngine);
      Durability data = null;
      if (dir != null) {
        try {
          data =
              Durability.open(
                  dir,
                  DurableLog.Fsync.valueOf(config.fsync().toUpperCase(java.util.Locale.ROOT)),
                  config.skipDamaged(),
                  tenantKeys,
                  tenantEngine,
                  clock,
                  null,
                  line -> logRecovery("tenant " + name + ": " + line));
        } catch (CorruptLogException e) {
          throw new IOException("tenant " + name + ": " + e.getMessage(), e);
        }
      }
      NodeStats tenantStats = new NodeStats(config.clock().millis());
      StatsReport tenantReport =
          new StatsReport(
                  config,
                  tenantKeys,
                  tenantStats,
                  new TenantConnections(tracker, () -> tenants.get(name)),
                  VERSION,
                  port)
              .withEngine(tenantEngine)
              .withDurability(data);
      return new Tenant.Parts(
          tenantKeys,
          tenantEngine,
          tenantStats,
          tenantReport,
          new Watchers(config.clock(), config.watchLappedTimeoutMillis()),
          data);
    }

    /**
     * A tenant's change buffer (its watchers' history, made when the first one watches): the node's
     * {@code --watch-buffer} at most, and a sixteenth of the tenant's memory (256 KiB at least), so
     * that all tenants' buffers together stay a small part of the node's memory.
     */
    private int changeBufferOf(TenantQuota quota) {
      long wanted =
          Math.min(config.watchBufferBytes(), Math.max(256 << 10, quota.memoryBytes() / 16));
      return Integer.highestOneBit((int) wanted);
    }

    @Override
    public void close(Tenant tenant, boolean keep) {
      Durability data = tenant.parts().durability();
      if (data == null) {
        return;
      }
      if (keep) {
        try {
          data.snapshot();
        } catch (IOException | RuntimeException e) {
          NodeLog.error(
              "whack node: no snapshot of tenant " + tenant.name() + " on the way out: " + e);
        }
      }
      try {
        data.close();
      } catch (IOException e) {
        NodeLog.error("whack node: the log of tenant " + tenant.name() + " did not close: " + e);
      }
    }
  }

  /**
   * Replays the data directory's log, if the node has one, before anything else runs, and attaches
   * the log for what follows.
   */
  private static Durability openDataDir(
      NodeConfig config, Keyspace keyspace, ProfileEngine engine, ReplayClock engineClock) {
    if (config.dataDir() == null) {
      return null;
    }
    try {
      return Durability.open(
          config.dataDir(),
          DurableLog.Fsync.valueOf(config.fsync().toUpperCase(java.util.Locale.ROOT)),
          config.skipDamaged(),
          keyspace,
          engine,
          engineClock,
          config.kafka() == null || config.kafka().changesTopic() == null
              ? null
              : config.kafka().changesSegments(),
          WhackNode::logRecovery);
    } catch (CorruptLogException e) {
      throw new UncheckedIOException(
          "cannot start from the data directory "
              + config.dataDir()
              + ": "
              + e.getMessage()
              + " (to start anyway, passing over the damaged part and losing its writes, add"
              + " --skip-damaged)",
          e);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot start from the data directory " + config.dataDir() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Says which address could not be listened on, for what, and the flag that changes it: a second
   * node on the same host used to fail with a bare "Address already in use" (issue 12), most often
   * for the metrics port, which every node takes (9211) unless told otherwise.
   */
  private static UncheckedIOException cannotListen(
      String bind, int port, String what, String flag, IOException cause) {
    boolean taken = false;
    for (Throwable c = cause; c != null && !taken; c = c.getCause()) {
      // gRPC's server wraps the BindException in an IOException of its own
      taken =
          c instanceof BindException
              || String.valueOf(c.getMessage()).contains("Address already in use");
    }
    String why =
        taken
            ? "the address is already in use (another node"
                + ("--port".equals(flag) ? " or memcached" : "")
                + " on this host?); choose another port with "
                + flag
                + ("--metrics-port".equals(flag)
                    ? ", or turn metrics off with --metrics-port 0"
                    : "")
            : cause.getMessage() + " (the address is set with --bind, the port with " + flag + ")";
    return new UncheckedIOException(
        "cannot listen on " + bind + ":" + port + " for the " + what + " port: " + why, cause);
  }

  /**
   * What SIGHUP asks of a running node: reads the auth file again (a bad one changes nothing and is
   * reported). Returns what was done, one line, for the node's log.
   */
  public String reload() {
    if (auth == null) {
      return "nothing to reload (no --auth-file)";
    }
    try {
      return "reloaded " + auth.file() + ": " + auth.reload() + " users";
    } catch (RuntimeException e) {
      return "kept the users it had: " + e.getMessage();
    }
  }

  /**
   * What this node authenticates with to the other members ({@code --member-user} and the first
   * line of {@code --member-password-file}), or null without. Checked here against the node's own
   * auth file, which every member shares: a wrong password or a role other than admin stops the
   * start, rather than every forwarded request failing later. Admin, because members forward what
   * only admin may run (segment and dimension definitions and drops, which every member applies);
   * the user's own role was checked where the request came in.
   */
  private static Cluster.MemberLogin memberLogin(NodeConfig config, Authenticator auth) {
    String user = config.memberUser();
    if (user == null || auth == null) {
      return null;
    }
    java.nio.file.Path file = config.memberPasswordFile();
    String password;
    try (java.io.BufferedReader in =
        java.nio.file.Files.newBufferedReader(file, java.nio.charset.StandardCharsets.UTF_8)) {
      password = in.readLine();
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--member-password-file " + file + " cannot be read: " + e.getMessage(), e);
    }
    if (password == null) {
      throw new IllegalArgumentException("--member-password-file " + file + " is empty");
    }
    dev.whack.node.security.User member = auth.check(user, password).join();
    dev.whack.node.security.Role role = member == null ? null : member.role();
    if (role == null) {
      throw new IllegalArgumentException(
          "--member-user "
              + user
              + " with the password in "
              + file
              + " is not a user of "
              + config.authFile()
              + " (members authenticate to each other with the auth file they share)");
    }
    if (role != dev.whack.node.security.Role.ADMIN) {
      throw new IllegalArgumentException(
          "--member-user "
              + user
              + " has the role "
              + role.word()
              + " in "
              + config.authFile()
              + "; a member's user needs admin (members forward segment and dimension"
              + " definitions to each other)");
    }
    return new Cluster.MemberLogin(user, password);
  }

  /** The node's users, or null when authentication is off. */
  public Authenticator auth() {
    return auth;
  }

  /**
   * Starts a node; the config is concluded (validated) first.
   *
   * @throws IllegalArgumentException when the configuration is invalid, or when {@code --peers}
   *     names this very node under a name other than its own, which would make it forward keys to
   *     itself
   */
  public static WhackNode start(NodeConfig config) throws InterruptedException {
    if (!config.isConcluded()) {
      config.conclude();
    }
    String alias =
        MemberCheck.aliasOfSelf(config.advertise(), config.bind(), config.port(), config.peers());
    if (alias != null) {
      throw new IllegalArgumentException(
          "--peers names "
              + alias
              + ", which is this node (it listens on "
              + config.bind()
              + ":"
              + config.port()
              + "), but this node's name is "
              + config.advertise()
              + " (--advertise, default --bind:--port); use one name for it in both, or it"
              + " forwards keys to itself");
    }
    return new WhackNode(config);
  }

  /**
   * Removes expired profiles (and what a delayed flush invalidated), re-evaluates the
   * time-dependent memberships that are due and disconnects watchers that stayed lapped too long.
   * Runs every {@code --timer-period} (100 ms); tests that move a manual clock turn the background
   * timer off and call this themselves.
   */
  public void runTimers() {
    for (Tenant tenant : tenants.list()) {
      tenant.parts().keyspace().runTimers();
      tenant.parts().watchers().closeLapped();
    }
  }

  private void checkMembersQuietly() {
    try {
      memberCheck.probe();
    } catch (RuntimeException e) {
      NodeLog.warn("whack: member check failed: " + e);
    }
  }

  private void balanceTenantsQuietly() {
    try {
      tenants.balance();
    } catch (RuntimeException e) {
      NodeLog.warn("whack: tenant balance failed: " + e);
    }
  }

  private void runTimersQuietly() {
    try {
      runTimers();
    } catch (RuntimeException e) {
      // A failure in one turn must not stop the timer; the next turn retries what is due.
      NodeLog.warn("whack: timer turn failed: " + e);
    }
  }

  public ProfileEngine engine() {
    return engine;
  }

  /** The memcached port actually bound (useful when configured as 0). */
  public int port() {
    return server.port();
  }

  /** The metrics port actually bound, or 0 when metrics are off. */
  public int metricsPort() {
    return metricsPort;
  }

  /** The gRPC port, or 0 when it is off. */
  public int grpcPort() {
    return grpc == null ? 0 : grpc.port();
  }

  /** The REST read API's port, or 0 when it is off. */
  public int httpPort() {
    return http == null ? 0 : http.port();
  }

  public NodeConfig config() {
    return config;
  }

  public Keyspace keyspace() {
    return keyspace;
  }

  public NodeStats stats() {
    return stats;
  }

  public NodeMetrics metrics() {
    return metrics;
  }

  public Cluster cluster() {
    return cluster;
  }

  /** The Kafka consumer of updates, or null when the node reads none. */
  public UpdateSource kafkaSource() {
    return kafkaSource;
  }

  /** The publisher of segment changes to Kafka, or null when the node publishes none. */
  public ChangePublisher changePublisher() {
    return changePublisher;
  }

  /** What this node knows of its peers' member lists (null in a managed cluster). */
  public MemberCheck memberCheck() {
    return memberCheck;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (kafkaSource != null && cluster.isManaged() && server != null) {
      // A graceful stop hands this member's slots off first, serving them until then.
      kafkaSource.handOffSlots(HAND_OFF_TIMEOUT);
    }
    if (onHangup != null) {
      Hangup.unregister(onHangup);
    }
    timers.shutdownNow();
    if (grpc != null) {
      grpc.close();
    }
    if (http != null) {
      http.close();
    }
    if (server != null) {
      long open = stats.currConnections.sum();
      server.close(); // no more client writes: the profiles topic gets the last of them below
      NodeLog.info("whack node: closed " + open + " client connection" + (open == 1 ? "" : "s"));
    }
    if (profilesTopic != null && cluster.isManaged()) {
      // While this member still owns what it owns: once its consumer leaves, it publishes nothing.
      profilesTopic.publishBeforeLeaving();
    }
    if (kafkaSource != null) {
      kafkaSource.close(); // no more writes from Kafka before the last snapshot
    }
    if (standbys != null) {
      standbys.close();
    }
    if (loggedWrites != null) {
      loggedWrites.close();
    }
    if (profilesTopic != null) {
      profilesTopic.close();
    }
    if (changePublisher != null) {
      changePublisher.close();
    }
    cluster.close();
    metrics.close();
    if (auth != null) {
      auth.close();
    }
    if (tenants != null) {
      tenants.close(); // the other tenants' last snapshots and logs
    }
    if (durability != null && server != null) {
      try {
        // Nothing writes any more: a snapshot now makes the next start-up quick. (A node that
        // never served has nothing to add to what it loaded.)
        Durability.SnapshotStats taken = durability.snapshot();
        NodeLog.info(
            String.format(
                java.util.Locale.ROOT,
                "whack node: wrote a snapshot on the way out (%d records, %d bytes, %.1f s)",
                taken.records(),
                taken.bytes(),
                taken.nanos() / 1e9));
      } catch (IOException | RuntimeException e) {
        NodeLog.error("whack node: no snapshot on the way out: " + e.getMessage());
      }
    }
    if (durability != null) {
      try {
        durability.close();
      } catch (IOException e) {
        NodeLog.error("whack node: the log could not be closed cleanly: " + e.getMessage());
      }
    }
  }

  /** ServerTls's lines: a reload, or a failed one (the old certificate stays: a warning). */
  private static void logTls(String line) {
    NodeLog.write(
        line.contains(") failed") ? NodeLog.Level.WARN : NodeLog.Level.INFO, "whack node: " + line);
  }

  /** MemberCheck's lines, which say their own severity ("whack: ERROR: ...", "WARNING"). */
  private static void logMemberCheck(String line) {
    NodeLog.write(line.startsWith("whack: ERROR") ? NodeLog.Level.ERROR : NodeLog.Level.WARN, line);
  }

  /** The data directory's recovery report; one that skipped damaged parts lost writes. */
  private static void logRecovery(String line) {
    NodeLog.write(
        line.contains("SKIPPED DAMAGED") ? NodeLog.Level.WARN : NodeLog.Level.INFO,
        "whack node: " + line);
  }
}
