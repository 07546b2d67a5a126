package dev.whack.node.tenant;

import dev.whack.node.durability.Durability;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.observability.NodeStats;
import dev.whack.node.observability.StatsReport;
import dev.whack.node.observability.Watchers;
import dev.whack.node.protocol.ProtocolContext;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.atomic.LongAdder;

/**
 * One tenant: a named keyspace with everything that hangs off it (its profiles, segments,
 * dimensions, producers, change stream, watchers and, with {@code --data-dir}, its own log and
 * snapshots), reached through its own {@link ProtocolContext}. A connection works in exactly one
 * tenant's context at a time, so no command can name another tenant's key or segment: isolation by
 * construction (docs/architecture.md, "Security and tenants").
 *
 * <p>Concurrency: immutable but for counters and the dropped flag; the connections in it are a
 * Netty channel group, which forgets a channel when it closes.
 */
public final class Tenant {
  /** The tenant every connection starts in: today's node, the only one when auth is off. */
  public static final String DEFAULT = "default";

  /**
   * What a tenant is made of; the node builds it ({@link Tenants.Opener}).
   *
   * @param durability its data directory's log and snapshots, or null in memory only
   */
  public record Parts(
      Keyspace keyspace,
      ProfileEngine engine,
      NodeStats stats,
      StatsReport statsSource,
      Watchers watchers,
      Durability durability) {}

  private final String name;
  private final TenantQuota quota;
  private final Parts parts;
  private final ProtocolContext context;
  private final RequestRate rate;
  private final ChannelGroup connections;

  /** The connections counted in {@code curr_connections}, so each is taken back exactly once. */
  private final java.util.Set<Channel> counted = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final LongAdder overRate = new LongAdder();
  private final LongAdder pausedReads = new LongAdder();
  private final Tenants tenants;
  private volatile boolean dropped;

  /**
   * Time its requests took, on every port ({@link #addBusyNanos}), for the fair share ({@link
   * Tenants#balance}).
   */
  private final LongAdder busyNanos = new LongAdder();

  /** The busy time seen by the last balance, to take the next period's from. */
  private long busySeen;

  /** Whether it took more than its share of the last period while another tenant worked too. */
  private volatile boolean overShare;

  Tenant(String name, TenantQuota quota, Parts parts, ProtocolContext node, Tenants tenants) {
    this.name = name;
    this.quota = quota;
    this.parts = parts;
    this.rate = quota.requestsPerSecond() == 0 ? null : new RequestRate(quota.requestsPerSecond());
    this.connections = new DefaultChannelGroup("tenant " + name, GlobalEventExecutor.INSTANCE);
    this.tenants = tenants;
    this.context = node.forTenant(this, tenants, parts);
  }

  public String name() {
    return name;
  }

  public TenantQuota quota() {
    return quota;
  }

  public Parts parts() {
    return parts;
  }

  /** What a connection in this tenant works on. */
  public ProtocolContext context() {
    return context;
  }

  public boolean isDefault() {
    return DEFAULT.equals(name);
  }

  /**
   * Takes one request of the tenant's rate quota: false (and counted) when it is over it this
   * second. Free for a tenant without one.
   */
  public boolean admitRequest() {
    if (rate == null || rate.tryAcquire(System.nanoTime())) {
      return true;
    }
    overRate.increment();
    return false;
  }

  /** The reply's reason for a request refused by {@link #admitRequest}. */
  public String overRateReason() {
    return "tenant " + name + " is over its request rate of " + quota.requestsPerSecond() + "/s";
  }

  /** Requests refused for the rate quota so far. */
  public long overRateCount() {
    return overRate.sum();
  }

  /**
   * Whether the time its requests take is metered: only while the node has other tenants than the
   * default one (alone, there is nothing to share, and the time is not taken at all).
   */
  public boolean metered() {
    return tenants.several();
  }

  /**
   * Adds time its requests took ({@link #metered}): a memcached-port read batch on its event loop,
   * an HTTP answer on the HTTP port's, a gRPC call's work on the gRPC executor.
   */
  public void addBusyNanos(long nanos) {
    busyNanos.add(nanos);
  }

  /**
   * Whether its memcached-port connections yield after a few requests a turn: it took more than its
   * fair share of the last period while another tenant had work too (docs/security.md, "Fair
   * share").
   */
  public boolean overShare() {
    return overShare;
  }

  /** The busy time of the period since the last call (the balancing thread's only). */
  long busySinceLastPeriod() {
    long now = busyNanos.sum();
    long period = now - busySeen;
    busySeen = now;
    return period;
  }

  void overShare(boolean over) {
    overShare = over;
  }

  /** Times the tenant's connections were paused for taking more than their fair share. */
  public LongAdder pausedReads() {
    return pausedReads;
  }

  /**
   * Adds a connection that now works in this tenant; closed at once if it was dropped. Another
   * tenant than the default one counts its connections in its own statistics (the node's connection
   * tracker counts every connection in the default one's, which are the node's).
   */
  public void join(Channel channel) {
    if (!connections.add(channel)) {
      return;
    }
    if (!isDefault() && counted.add(channel)) {
      parts.stats().currConnections.increment();
      parts.stats().totalConnections.increment();
      channel.closeFuture().addListener(f -> uncount(channel));
    }
    if (dropped) {
      channel.close();
    }
  }

  /**
   * Takes a connection out of the tenant's: a text or binary one that logged in and moved from the
   * default tenant into its user's, or an HTTP one whose next request came from another tenant's
   * user.
   */
  public void leave(Channel channel) {
    connections.remove(channel);
    uncount(channel);
  }

  private void uncount(Channel channel) {
    if (counted.remove(channel)) {
      parts.stats().currConnections.decrement();
    }
  }

  /** The tenant's connections now (text and binary; HTTP and gRPC ask per request). */
  public ChannelGroup connections() {
    return connections;
  }

  /** Whether the tenant was dropped: its context must not be used any more. */
  public boolean dropped() {
    return dropped;
  }

  /**
   * Marks it dropped and starts closing its connections; the registry waits for them (off every
   * event loop) and closes its data afterwards, so no command of theirs runs against a closed log.
   */
  io.netty.channel.group.ChannelGroupFuture markDropped() {
    dropped = true;
    return connections.close();
  }
}
