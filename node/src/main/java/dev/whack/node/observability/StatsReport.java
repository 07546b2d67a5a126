package dev.whack.node.observability;

import dev.whack.node.config.NodeConfig;
import dev.whack.node.durability.Durability;
import dev.whack.node.durability.DurableLog;
import dev.whack.node.engine.EngineStats;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.keyspace.Keyspace;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.IntSupplier;

/**
 * The {@code stats} groups memcached has and Whack can answer truthfully: general, settings, items,
 * slabs (Whack has no slab classes, so one class stands for the whole store), sizes and conns.
 * Shared by the text and binary protocols.
 *
 * <p>Concurrency: stateless apart from its wiring; safe from any thread.
 */
public final class StatsReport {
  /** Receives one statistic. */
  @FunctionalInterface
  public interface Sink {
    void stat(String name, String value);
  }

  private final NodeConfig config;
  private final Keyspace keyspace;
  private final NodeStats stats;
  private final OpenConnections connections;
  private final String version;
  private final IntSupplier boundPort;
  private ProfileEngine engine;
  private Durability durability;
  private java.util.function.Consumer<java.util.function.BiConsumer<String, String>> clusterStats;

  public StatsReport(
      NodeConfig config,
      Keyspace keyspace,
      NodeStats stats,
      OpenConnections connections,
      String version,
      IntSupplier boundPort) {
    this.config = config;
    this.keyspace = keyspace;
    this.stats = stats;
    this.connections = connections;
    this.version = version;
    this.boundPort = boundPort;
  }

  /** Adds the profile engine's figures (profiles, segments) to the general group. */
  public StatsReport withEngine(ProfileEngine engine) {
    this.engine = engine;
    return this;
  }

  /** Adds the log's figures (a node with {@code --data-dir}). */
  public StatsReport withDurability(Durability durability) {
    this.durability = durability;
    return this;
  }

  /**
   * Adds the {@code cluster} group: the member list and what the peers said of theirs (a static
   * cluster), or the map in short (a managed one).
   */
  public StatsReport withClusterStats(
      java.util.function.Consumer<java.util.function.BiConsumer<String, String>> clusterStats) {
    this.clusterStats = clusterStats;
    return this;
  }

  /** Writes one group ("" for the general one); false, writing nothing, for an unknown group. */
  public boolean write(String group, Sink sink) {
    switch (group) {
      case "" -> general(sink);
      case "settings" -> settings(sink);
      case "items" -> items(sink);
      case "slabs" -> slabs(sink);
      case "sizes" -> sink.stat("sizes_status", "disabled");
      case "conns" -> conns(sink);
      case "cluster" -> {
        if (clusterStats == null) {
          return false;
        }
        clusterStats.accept(sink::stat);
      }
      default -> {
        return false;
      }
    }
    return true;
  }

  private void general(Sink s) {
    long nowMillis = config.clock().millis();
    double[] cpu = cpuSeconds();
    s.stat("pid", Long.toString(ProcessHandle.current().pid()));
    s.stat("uptime", Long.toString((nowMillis - stats.startedAtMillis()) / 1000));
    s.stat("time", Long.toString(nowMillis / 1000));
    s.stat("version", version);
    s.stat("pointer_size", "64");
    s.stat("rusage_user", String.format(Locale.ROOT, "%.6f", cpu[0]));
    s.stat("rusage_system", String.format(Locale.ROOT, "%.6f", cpu[1]));
    s.stat("max_connections", Integer.toString(config.maxConnections()));
    s.stat("curr_connections", Long.toString(stats.currConnections.sum()));
    s.stat("total_connections", Long.toString(stats.totalConnections.sum()));
    s.stat("rejected_connections", Long.toString(stats.rejectedConnections.sum()));
    s.stat("cmd_get", Long.toString(stats.cmdGet.sum()));
    s.stat("cmd_set", Long.toString(stats.cmdSet.sum()));
    s.stat("cmd_flush", Long.toString(stats.cmdFlush.sum()));
    s.stat("cmd_touch", Long.toString(stats.cmdTouch.sum()));
    s.stat("cmd_meta", Long.toString(stats.cmdMeta.sum()));
    s.stat("get_hits", Long.toString(stats.getHits.sum()));
    s.stat("get_misses", Long.toString(stats.getMisses.sum()));
    s.stat("get_expired", Long.toString(keyspace.lookupsExpired()));
    s.stat("get_flushed", Long.toString(keyspace.lookupsFlushed()));
    s.stat("delete_misses", Long.toString(stats.deleteMisses.sum()));
    s.stat("delete_hits", Long.toString(stats.deleteHits.sum()));
    s.stat("incr_misses", Long.toString(stats.incrMisses.sum()));
    s.stat("incr_hits", Long.toString(stats.incrHits.sum()));
    s.stat("decr_misses", Long.toString(stats.decrMisses.sum()));
    s.stat("decr_hits", Long.toString(stats.decrHits.sum()));
    s.stat("cas_misses", Long.toString(stats.casMisses.sum()));
    s.stat("cas_hits", Long.toString(stats.casHits.sum()));
    s.stat("cas_badval", Long.toString(stats.casBadval.sum()));
    s.stat("touch_hits", Long.toString(stats.touchHits.sum()));
    s.stat("touch_misses", Long.toString(stats.touchMisses.sum()));
    s.stat("store_too_large", Long.toString(stats.storeTooLarge.sum()));
    s.stat("store_no_memory", "0");
    s.stat("auth_cmds", Long.toString(stats.authCommands.sum()));
    s.stat("auth_errors", Long.toString(stats.authErrors.sum()));
    if (config.authFile() != null) {
      s.stat("auth_unauthenticated", Long.toString(stats.unauthenticatedCommands.sum()));
      s.stat("auth_unauthorized", Long.toString(stats.unauthorizedCommands.sum()));
    }
    if (config.idleTimeoutMillis() > 0) {
      s.stat("idle_kicks", Long.toString(stats.idleKicks.sum()));
    }
    s.stat("bytes_read", Long.toString(stats.bytesRead.sum()));
    s.stat("bytes_written", Long.toString(stats.bytesWritten.sum()));
    s.stat("reply_bytes", Long.toString(connections.queuedReplyBytes()));
    s.stat("limit_maxbytes", Long.toString(keyspace.maxBytes()));
    s.stat("threads", Integer.toString(config.ioThreads()));
    s.stat("bytes", Long.toString(keyspace.bytesUsed()));
    s.stat("curr_items", Long.toString(keyspace.itemCount()));
    s.stat("total_items", Long.toString(keyspace.totalItems()));
    s.stat("expired_unfetched", Long.toString(keyspace.expiredUnfetched()));
    s.stat("evicted_unfetched", Long.toString(keyspace.evictedUnfetched()));
    s.stat("evictions", Long.toString(keyspace.evictions()));
    s.stat("reclaimed", Long.toString(keyspace.reclaimed()));
    if (engine != null) {
      EngineStats e = engine.stats();
      s.stat("profiles", Integer.toString(e.profiles()));
      s.stat("segments", Integer.toString(e.segments()));
      s.stat("attribute_names", Integer.toString(e.attributeNames()));
      s.stat("event_names", Integer.toString(e.eventNames()));
      s.stat("name_bytes", Long.toString(e.nameBytes()));
      s.stat("segment_changes", Long.toString(engine.membershipChanges()));
      s.stat("profile_updates", Long.toString(stats.profileUpdates.sum()));
      s.stat("profile_updates_ignored", Long.toString(stats.profileUpdatesIgnored.sum()));
      s.stat("opaque_json_stores", Long.toString(keyspace.opaqueJsonStores()));
      s.stat("watchers", Long.toString(stats.watchers.sum()));
      s.stat("watch_changes_sent", Long.toString(stats.watchDelivered.sum()));
      s.stat("watch_changes_missed", Long.toString(stats.watchMissed.sum()));
      s.stat("watchers_closed_lapped", Long.toString(stats.watchersLappedClosed.sum()));
    }
    if (durability != null) {
      DurableLog log = durability.log();
      s.stat("log_fsync", log.fsync().name().toLowerCase(Locale.ROOT));
      s.stat("log_records_recovered", Long.toString(durability.recovered().logRecords()));
      s.stat("log_bytes", Long.toString(durability.logBytes()));
      s.stat("log_fsyncs", Long.toString(log.forces()));
      long forces = log.forces();
      s.stat("log_fsync_avg_us", Long.toString(forces == 0 ? 0 : log.forceNanos() / forces / 1000));
      s.stat("log_writes_since_snapshot", Long.toString(durability.writesSinceSnapshot()));
      s.stat("snapshot_records_recovered", Long.toString(durability.recovered().snapshotRecords()));
      Durability.SnapshotStats last = durability.lastSnapshot();
      s.stat("snapshot_in_progress", durability.snapshotting() ? "1" : "0");
      s.stat("snapshot_age", Long.toString(durability.snapshotAgeSeconds()));
      s.stat("snapshot_bytes", Long.toString(last == null ? 0 : last.bytes()));
      s.stat("snapshot_duration_ms", Long.toString(last == null ? 0 : last.nanos() / 1_000_000));
    }
  }

  private void settings(Sink s) {
    // The same cap as limit_maxbytes, as in memcached, where both show the one setting: this
    // tenant's keyspace's, so a tenant sees its own quota and the default tenant what the others'
    // caps leave of --memory (all of it on a node without tenants).
    s.stat("maxbytes", Long.toString(keyspace.maxBytes()));
    s.stat("maxconns", Integer.toString(config.maxConnections()));
    s.stat("idle_timeout", seconds(config.idleTimeoutMillis()));
    s.stat("tcpport", Integer.toString(boundPort.getAsInt()));
    s.stat("inter", config.bind());
    s.stat("domain_socket", "NULL"); // no unix socket: TCP only
    s.stat("verbosity", "0");
    s.stat("evictions", "on");
    s.stat("num_threads", Integer.toString(config.ioThreads()));
    s.stat("cas_enabled", "yes");
    s.stat("binding_protocol", "auto-negotiate");
    s.stat("item_size_max", Integer.toString(config.maxItemSize()));
    s.stat("flush_enabled", "yes");
    // memcached's names: SASL (binary) and the text protocol's token file; Whack's file serves
    // both.
    s.stat("auth_enabled_sasl", config.authFile() != null ? "yes" : "no");
    s.stat("auth_enabled_ascii", config.authFile() != null ? config.authFile().toString() : "no");
    s.stat("detail_enabled", stats.prefixes.enabled() ? "yes" : "no");
    s.stat("metrics_port", Integer.toString(config.metricsPort()));
    s.stat("watch_buffer", Integer.toString(config.watchBufferBytes()));
    s.stat("watch_lapped_timeout", Long.toString(config.watchLappedTimeoutMillis() / 1000));
  }

  private void items(Sink s) {
    s.stat("items:1:number", Long.toString(keyspace.itemCount()));
    s.stat("items:1:mem_requested", Long.toString(keyspace.bytesUsed()));
    s.stat("items:1:evicted", Long.toString(keyspace.evictions()));
    s.stat("items:1:outofmemory", "0");
    s.stat("items:1:reclaimed", Long.toString(keyspace.reclaimed()));
    s.stat("items:1:expired_unfetched", Long.toString(keyspace.expiredUnfetched()));
    s.stat("items:1:evicted_unfetched", Long.toString(keyspace.evictedUnfetched()));
  }

  private void slabs(Sink s) {
    s.stat("1:used_chunks", Long.toString(keyspace.itemCount()));
    s.stat("1:get_hits", Long.toString(stats.getHits.sum()));
    s.stat("1:cmd_set", Long.toString(stats.cmdSet.sum()));
    s.stat("1:delete_hits", Long.toString(stats.deleteHits.sum()));
    s.stat("1:incr_hits", Long.toString(stats.incrHits.sum()));
    s.stat("1:decr_hits", Long.toString(stats.decrHits.sum()));
    s.stat("1:cas_hits", Long.toString(stats.casHits.sum()));
    s.stat("1:cas_badval", Long.toString(stats.casBadval.sum()));
    s.stat("1:touch_hits", Long.toString(stats.touchHits.sum()));
    s.stat("active_slabs", "1");
    s.stat("total_malloced", Long.toString(keyspace.bytesUsed()));
  }

  private void conns(Sink s) {
    long nowMillis = config.clock().millis();
    for (OpenConnections.Connection c : connections.openConnections()) {
      String id = Integer.toString(c.id());
      s.stat(id + ":addr", "tcp:" + address(c.remote()));
      s.stat(id + ":listen_addr", "tcp:" + address(c.local()));
      s.stat(id + ":state", "conn_parse_cmd");
      s.stat(
          id + ":secs_since_last_cmd", Long.toString((nowMillis - c.lastCommandMillis()) / 1000));
      s.stat(id + ":reply_bytes", Long.toString(c.queuedReplyBytes()));
    }
  }

  /** Whole seconds as memcached prints them; a sub-second setting (tests) with its fraction. */
  private static String seconds(long millis) {
    return millis % 1000 == 0
        ? Long.toString(millis / 1000)
        : String.format(Locale.ROOT, "%.3f", millis / 1000.0);
  }

  private static String address(SocketAddress address) {
    if (address instanceof InetSocketAddress inet) {
      return inet.getAddress().getHostAddress() + ":" + inet.getPort();
    }
    return String.valueOf(address);
  }

  /** User and system CPU seconds of this process, from /proc where there is one. */
  private static double[] cpuSeconds() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // After the command name: state is field 3, utime field 14, stime field 15 (1-based).
      double ticksPerSecond = 100.0;
      return new double[] {
        Long.parseLong(fields[11]) / ticksPerSecond, Long.parseLong(fields[12]) / ticksPerSecond
      };
    } catch (IOException | RuntimeException e) {
      return new double[] {0, 0};
    }
  }
}
