package dev.whack.node.observability;

import com.sun.net.httpserver.HttpServer;
import dev.whack.node.durability.Durability;
import dev.whack.node.durability.DurableLog;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.SegmentInfo;
import dev.whack.node.kafka.ChangePublisher;
import dev.whack.node.kafka.UpdateSource;
import dev.whack.node.keyspace.Keyspace;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * The node's Prometheus metrics. Counters are read from {@link NodeStats} and the keyspace when
 * scraped (no second count on the hot path); request latency goes to {@link LatencyHistograms} by
 * family index, so the hot path never looks a meter up by name.
 *
 * <p>Concurrency: safe from any thread; micrometer meters are thread-safe.
 */
public final class NodeMetrics implements AutoCloseable {
  /** Command families with their own latency histogram. */
  public static final int GET = 0;

  public static final int STORE = 1;
  public static final int DELETE = 2;
  public static final int ARITHMETIC = 3;
  public static final int TOUCH = 4;
  public static final int OTHER = 5;

  /** Partial profile updates. */
  public static final int UPDATE = 6;

  /** Segment definitions and queries. */
  public static final int SEGMENT = 7;

  private static final String[] FAMILY_NAMES = {
    "get", "store", "delete", "arithmetic", "touch", "other", "update", "segment"
  };

  private final PrometheusMeterRegistry registry;
  private UpdateSource kafkaSource;
  private MultiGauge kafkaLag;
  private final LatencyHistograms latency =
      new LatencyHistograms(
          "whack_request_latency_seconds",
          "Time from a request's last byte arriving to its reply being queued",
          FAMILY_NAMES);
  private JvmGcMetrics gcMetrics;
  private HttpServer http;

  public NodeMetrics(NodeStats stats, Keyspace keyspace) {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.getPrometheusRegistry().register(latency);
    command("get", "hit", stats.getHits);
    command("get", "miss", stats.getMisses);
    command("store", "stored", stats.storeStored);
    command("store", "not_stored", stats.storeNotStored);
    command("store", "exists", stats.storeExists);
    command("store", "not_found", stats.storeNotFound);
    command("store", "too_large", stats.storeTooLarge);
    command("delete", "hit", stats.deleteHits);
    command("delete", "miss", stats.deleteMisses);
    command("incr", "hit", stats.incrHits);
    command("incr", "miss", stats.incrMisses);
    command("decr", "hit", stats.decrHits);
    command("decr", "miss", stats.decrMisses);
    command("cas", "hit", stats.casHits);
    command("cas", "miss", stats.casMisses);
    command("cas", "badval", stats.casBadval);
    command("touch", "hit", stats.touchHits);
    command("touch", "miss", stats.touchMisses);
    command("flush", "ok", stats.cmdFlush);
    command("any", "protocol_error", stats.protocolErrors);
    command("auth", "tried", stats.authCommands);
    command("auth", "failed", stats.authErrors);
    command("any", "unauthenticated", stats.unauthenticatedCommands);
    command("any", "unauthorized", stats.unauthorizedCommands);
    counter("whack.cache.hits", "Lookups that found a live item", stats.getHits);
    counter("whack.cache.misses", "Lookups that found nothing", stats.getMisses);
    counter("whack.network.read", "Bytes received from clients", stats.bytesRead, "bytes");
    counter("whack.network.written", "Bytes sent to clients", stats.bytesWritten, "bytes");
    counter("whack.connections.total", "Connections accepted", stats.totalConnections);
    gauge("whack.connections.open", "Open client connections", stats, s -> s.currConnections.sum());
    gauge("whack.cache.items", "Items held", keyspace, Keyspace::itemCount);
    gauge("whack.cache.bytes", "Estimated heap bytes held by items", keyspace, Keyspace::bytesUsed);
    gauge("whack.cache.limit.bytes", "The memory cap (--memory)", keyspace, Keyspace::maxBytes);
    FunctionCounter.builder("whack.cache.evictions", keyspace, Keyspace::evictions)
        .description("Live items evicted to stay under the memory cap")
        .register(registry);
    FunctionCounter.builder("whack.cache.reclaimed", keyspace, Keyspace::reclaimed)
        .description("Expired or flushed items removed")
        .register(registry);
    FunctionCounter.builder("whack.cache.opaque.json", keyspace, Keyspace::opaqueJsonStores)
        .description("Values starting with '{' that were not profiles, stored as opaque values")
        .register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gcMetrics = new JvmGcMetrics();
    gcMetrics.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
  }

  private ProfileEngine engine;
  private Watchers watchers;
  private MultiGauge segmentSizes;
  private MultiGauge watcherLag;

  /**
   * Adds the profile and segment meters: profiles held, membership changes, update outcomes,
   * segment sizes and per-watcher lag (both refreshed at each scrape, since segments and watchers
   * come and go).
   */
  public void bindProfiles(ProfileEngine engine, NodeStats stats, Watchers watchers) {
    this.engine = engine;
    this.watchers = watchers;
    gauge("whack.profiles", "Profiles held", engine, ProfileEngine::size);
    FunctionCounter.builder("whack.segment.changes", engine, ProfileEngine::membershipChanges)
        .description("Segment enter and leave changes (rate = membership changes per second)")
        .register(registry);
    FunctionCounter.builder("whack.profile.updates", stats.profileUpdates, LongAdder::sum)
        .description("Partial profile updates received")
        .register(registry);
    FunctionCounter.builder(
            "whack.profile.updates.ignored", stats.profileUpdatesIgnored, LongAdder::sum)
        .description("Updates acknowledged but not applied: a replayed producer sequence")
        .register(registry);
    gauge("whack.watchers", "Connections watching segment changes", stats, s -> s.watchers.sum());
    FunctionCounter.builder("whack.watch.delivered", stats.watchDelivered, LongAdder::sum)
        .description("Change lines written to watchers")
        .register(registry);
    FunctionCounter.builder("whack.watch.missed", stats.watchMissed, LongAdder::sum)
        .description("Changes watchers missed because they read too slowly")
        .register(registry);
    FunctionCounter.builder(
            "whack.watchers.closed.lapped", stats.watchersLappedClosed, LongAdder::sum)
        .description("Watchers disconnected because they stayed lapped for the lapped timeout")
        .register(registry);
    segmentSizes =
        MultiGauge.builder("whack.segment.size")
            .description("Members of each segment")
            .register(registry);
    watcherLag =
        MultiGauge.builder("whack.watcher.lag")
            .description("Changes buffered for a watcher and not yet written")
            .register(registry);
  }

  /**
   * The Kafka source's counters and, per partition, its consumer lag (docs/kafka.md, "Metrics").
   */
  public void bindKafkaSource(UpdateSource source) {
    FunctionCounter.builder("whack.kafka.records", source, UpdateSource::applied)
        .description("Records of the updates topic by outcome")
        .tag("outcome", "applied")
        .register(registry);
    FunctionCounter.builder("whack.kafka.records", source, UpdateSource::duplicates)
        .description("Records of the updates topic by outcome")
        .tag("outcome", "duplicate")
        .register(registry);
    FunctionCounter.builder("whack.kafka.records", source, UpdateSource::deadLetters)
        .description("Records of the updates topic by outcome")
        .tag("outcome", "dead_letter")
        .register(registry);
    FunctionCounter.builder("whack.kafka.bulk.batches", source, UpdateSource::bulkBatches)
        .description("Poll batches of the updates topic that were backlog (bulk work)")
        .register(registry);
    FunctionCounter.builder(
            "whack.kafka.bulk.throttled.seconds", source, s -> s.throttledNanos() / 1e9)
        .description(
            "Time the Kafka source paused after backlog batches, leaving live requests first")
        .register(registry);
    FunctionCounter.builder("whack.kafka.dead.letters.lost", source, UpdateSource::deadLettersLost)
        .description("Dead letters the broker did not take")
        .register(registry);
    FunctionCounter.builder("whack.kafka.source.failures", source, UpdateSource::failures)
        .description(
            "Polls of the updates topic that failed (the log, the broker, an owner) and were read"
                + " again after a pause")
        .register(registry);
    kafkaSource = source;
    kafkaLag =
        MultiGauge.builder("whack.kafka.consumer.lag")
            .description("Records behind the end of each partition of the updates topic")
            .register(registry);
  }

  /**
   * A Kafka-managed member's view of the cluster (docs/cluster.md): the map, the hand-offs it
   * marks, the warm copies this member keeps and the profile writes it sends through the log.
   */
  public void bindManagedCluster(
      dev.whack.node.cluster.Cluster cluster,
      dev.whack.node.kafka.StandbyReplica standbys,
      dev.whack.node.kafka.LoggedWrites writes) {
    Gauge.builder("whack.cluster.epoch", cluster, c -> c.map().epoch())
        .description("The epoch of the cluster map this member installed")
        .register(registry);
    Gauge.builder("whack.cluster.members", cluster, c -> c.map().members().size())
        .description("Members in the cluster map")
        .register(registry);
    Gauge.builder("whack.cluster.slots.owned", cluster, c -> c.map().slotsOf(c.self()).size())
        .description("Slots (updates topic partitions) this member owns")
        .register(registry);
    Gauge.builder("whack.cluster.slots.moving", cluster, c -> c.slotsMoving())
        .description("Slots the map marks as moving to another member (hand-offs in progress)")
        .register(registry);
    Gauge.builder("whack.standby.slots", standbys, s -> s.lags().size())
        .description("Slots this member keeps a warm copy of")
        .register(registry);
    Gauge.builder(
            "whack.standby.lag.records",
            standbys,
            s -> s.lags().values().stream().mapToLong(Long::longValue).sum())
        .description("Records the warm copies kept here are behind their slots' ends, summed")
        .register(registry);
    FunctionCounter.builder(
            "whack.standby.promoted", standbys, dev.whack.node.kafka.StandbyReplica::promoted)
        .description("Profiles taken over from warm copies when this member became their owner")
        .register(registry);
    FunctionCounter.builder(
            "whack.logged.writes", writes, dev.whack.node.kafka.LoggedWrites::written)
        .description("Profile writes of memcached clients sent through the updates topic")
        .tag("outcome", "written")
        .register(registry);
    FunctionCounter.builder(
            "whack.logged.writes", writes, dev.whack.node.kafka.LoggedWrites::refused)
        .description("Profile writes of memcached clients sent through the updates topic")
        .tag("outcome", "refused")
        .register(registry);
  }

  /** The Kafka changes publisher's counters (docs/kafka.md, "Metrics"). */
  public void bindChangePublisher(ChangePublisher publisher) {
    FunctionCounter.builder("whack.kafka.changes.published", publisher, ChangePublisher::published)
        .description("Segment changes the changes topic took")
        .register(registry);
    FunctionCounter.builder("whack.kafka.changes.missed", publisher, ChangePublisher::missed)
        .description(
            "Segment changes not published (the publisher fell a lap behind, or the broker"
                + " refused them), each run told by a gap marker on the topic")
        .register(registry);
    FunctionCounter.builder("whack.kafka.changes.gaps", publisher, ChangePublisher::gaps)
        .description("Gap markers sent to the changes topic")
        .register(registry);
    FunctionCounter.builder("whack.kafka.changes.failures", publisher, ChangePublisher::failures)
        .description("Times the changes publisher failed and went on after a gap marker")
        .register(registry);
  }

  /** One tenant's figures for the per-tenant gauges ({@link #bindTenants}). */
  public record TenantFigures(
      String name,
      long items,
      long bytes,
      long connections,
      long segments,
      long overRate,
      long paused) {}

  private java.util.function.Supplier<List<TenantFigures>> tenants;
  private MultiGauge[] tenantGauges;

  /**
   * Gauges per tenant, tagged {@code tenant}, refreshed at each scrape as tenants come and go:
   * items, bytes, connections, segments, and since start the requests refused for its rate quota
   * and the turns its connections yielded for the fair share (docs/security.md, "Tenants").
   */
  public void bindTenants(java.util.function.Supplier<List<TenantFigures>> tenants) {
    this.tenants = tenants;
    String[][] meters = {
      {"whack.tenant.items", "Items a tenant holds"},
      {"whack.tenant.bytes", "Bytes a tenant's items take"},
      {"whack.tenant.connections", "Connections working in a tenant"},
      {"whack.tenant.segments", "Segments a tenant has defined"},
      {"whack.tenant.over.rate", "Requests refused for a tenant's rate quota since start"},
      {"whack.tenant.yields", "Turns a tenant's connections yielded for the fair share since start"}
    };
    tenantGauges = new MultiGauge[meters.length];
    for (int i = 0; i < meters.length; i++) {
      tenantGauges[i] =
          MultiGauge.builder(meters[i][0]).description(meters[i][1]).register(registry);
    }
  }

  private void refreshTenantMeters() {
    List<TenantFigures> all = tenants.get();
    for (int i = 0; i < tenantGauges.length; i++) {
      List<MultiGauge.Row<?>> rows = new ArrayList<>();
      for (TenantFigures t : all) {
        long value =
            switch (i) {
              case 0 -> t.items();
              case 1 -> t.bytes();
              case 2 -> t.connections();
              case 3 -> t.segments();
              case 4 -> t.overRate();
              default -> t.paused();
            };
        rows.add(MultiGauge.Row.of(Tags.of("tenant", t.name()), value));
      }
      tenantGauges[i].register(rows, true);
    }
  }

  private void refreshDynamicMeters() {
    if (tenants != null) {
      refreshTenantMeters();
    }
    if (kafkaSource != null) {
      List<MultiGauge.Row<?>> rows = new ArrayList<>();
      kafkaSource
          .lags()
          .forEach(
              (partition, lag) ->
                  rows.add(MultiGauge.Row.of(Tags.of("partition", partition.toString()), lag)));
      kafkaLag.register(rows, true);
    }
    if (engine == null) {
      return;
    }
    List<MultiGauge.Row<?>> sizes = new ArrayList<>();
    for (SegmentInfo s : engine.segments()) {
      sizes.add(MultiGauge.Row.of(Tags.of("segment", s.name()), s.size()));
    }
    segmentSizes.register(sizes, true);
    List<MultiGauge.Row<?>> lags = new ArrayList<>();
    for (Watchers.Watcher w : watchers.all()) {
      lags.add(MultiGauge.Row.of(Tags.of("watcher", w.name()), w, Watchers.Watcher::lag));
    }
    watcherLag.register(lags, true);
  }

  /**
   * The HTTP API's request meters (docs/http.md, "Metrics"), registered here once: requests by
   * route and status, and their latency by route.
   *
   * @param routes the routes' names, indexed as {@link HttpRequestMeters#record} is called
   */
  public HttpRequestMeters httpRequests(String[] routes) {
    LatencyHistograms histograms =
        new LatencyHistograms(
            "whack_http_request_latency_seconds",
            "Time from an HTTP request's head arriving to its response being queued",
            "route",
            routes);
    registry.getPrometheusRegistry().register(histograms);
    return new HttpRequestMeters(registry, routes, histograms);
  }

  /** Records one request's latency; {@code family} is one of the constants above. */
  public void recordLatency(int family, long nanos) {
    latency.record(family, nanos);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    refreshDynamicMeters();
    return registry.scrape();
  }

  /** Serves {@code GET /metrics} on the given address; returns the bound port. */
  public int serve(String bind, int port) throws IOException {
    http = HttpServer.create(new InetSocketAddress(bind, port), 16);
    http.createContext(
        "/metrics",
        exchange -> {
          byte[] body = scrape().getBytes(StandardCharsets.UTF_8);
          exchange
              .getResponseHeaders()
              .add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    http.start();
    return http.getAddress().getPort();
  }

  @Override
  public void close() {
    if (http != null) {
      http.stop(0);
    }
    if (gcMetrics != null) {
      gcMetrics.close();
    }
    registry.close();
  }

  private void command(String command, String result, LongAdder counter) {
    FunctionCounter.builder("whack.commands", counter, LongAdder::sum)
        .description("Commands by type and result")
        .tag("command", command)
        .tag("result", result)
        .register(registry);
  }

  private void counter(String name, String description, LongAdder counter) {
    FunctionCounter.builder(name, counter, LongAdder::sum)
        .description(description)
        .register(registry);
  }

  private void counter(String name, String description, LongAdder counter, String unit) {
    FunctionCounter.builder(name, counter, LongAdder::sum)
        .description(description)
        .baseUnit(unit)
        .register(registry);
  }

  /** Adds the log's and snapshots' meters (a node with {@code --data-dir}). */
  public void bindDurability(Durability durability) {
    DurableLog log = durability.log();
    gauge(
        "whack.log.size.bytes",
        "Bytes of log files in the data directory (the log since the last snapshot)",
        durability,
        Durability::logBytes);
    gauge(
        "whack.snapshot.age.seconds",
        "Seconds since the last snapshot was taken (-1 before the first)",
        durability,
        Durability::snapshotAgeSeconds);
    gauge(
        "whack.snapshot.size.bytes",
        "Bytes of the last snapshot",
        durability,
        d -> d.lastSnapshot() == null ? 0 : d.lastSnapshot().bytes());
    gauge(
        "whack.snapshot.duration.seconds",
        "How long the last snapshot this node took lasted",
        durability,
        d -> d.lastSnapshot() == null ? 0 : d.lastSnapshot().nanos() / 1e9);
    FunctionCounter.builder("whack.log.written", log, DurableLog::bytesWritten)
        .description("Bytes written to the log since the node started")
        .baseUnit("bytes")
        .register(registry);
    FunctionCounter.builder("whack.log.fsyncs", log, DurableLog::forces)
        .description("Times the log was forced to disk")
        .register(registry);
    FunctionCounter.builder("whack.log.fsync.seconds", log, l -> l.forceNanos() / 1e9)
        .description("Time spent forcing the log to disk")
        .register(registry);
  }

  private <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value) {
    Gauge.builder(name, source, value).description(description).register(registry);
  }
}
