package dev.whack.node.protocol;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.durability.Durability;
import dev.whack.node.durability.DurableLog;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.observability.NodeMetrics;
import dev.whack.node.observability.NodeStats;
import dev.whack.node.observability.StatsReport;
import dev.whack.node.observability.Watchers;
import dev.whack.node.security.Authenticator;
import dev.whack.node.tenant.Tenant;
import dev.whack.node.tenant.Tenants;

/**
 * What every protocol front end needs from the node, wired once at startup.
 *
 * @param keyspace every keyed operation (items and profiles); each connection takes a session
 * @param engine segments and their change stream, for the commands that are not keyed
 * @param statsSource renders the {@code stats} groups for text and binary alike
 * @param watchers connections watching segment changes, for metrics
 * @param cluster the members and the ring; a single node owns every key
 * @param version the version string reported by {@code version} and binary Version
 * @param durability the node's data directory ({@code --data-dir}): its log and snapshots, or null
 *     for a node in memory only
 * @param auth the users and their roles ({@code --auth-file}), or null when authentication is off:
 *     every connection may then run every command, as memcached without {@code -Y} or {@code -S}
 * @param tenant the tenant whose keyspace this is, or null for a context outside the node's tenants
 *     (a test's pipeline): then there are no tenant commands and no quotas
 * @param tenants the node's tenants, or null likewise
 */
public record ProtocolContext(
    Keyspace keyspace,
    ProfileEngine engine,
    NodeStats stats,
    NodeMetrics metrics,
    StatsReport statsSource,
    Watchers watchers,
    Cluster cluster,
    String version,
    Durability durability,
    Authenticator auth,
    Tenant tenant,
    Tenants tenants) {

  /** A context outside the node's tenants. */
  public ProtocolContext(
      Keyspace keyspace,
      ProfileEngine engine,
      NodeStats stats,
      NodeMetrics metrics,
      StatsReport statsSource,
      Watchers watchers,
      Cluster cluster,
      String version,
      Durability durability,
      Authenticator auth) {
    this(
        keyspace,
        engine,
        stats,
        metrics,
        statsSource,
        watchers,
        cluster,
        version,
        durability,
        auth,
        null,
        null);
  }

  /**
   * The context of a tenant: its own keyspace, engine, statistics, watchers and data directory, and
   * the node's metrics, cluster, version and users.
   */
  public ProtocolContext forTenant(Tenant tenant, Tenants tenants, Tenant.Parts parts) {
    return new ProtocolContext(
        parts.keyspace(),
        parts.engine(),
        parts.stats(),
        metrics,
        parts.statsSource(),
        parts.watchers(),
        cluster,
        version,
        parts.durability(),
        auth,
        tenant,
        tenants);
  }

  /**
   * The node's log, or null for a node in memory only: under {@code --fsync always} a reply to a
   * logged write waits for it, and a connection pauses while the log is too far behind.
   */
  public DurableLog log() {
    return durability == null ? null : durability.log();
  }
}
