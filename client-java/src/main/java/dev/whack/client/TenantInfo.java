package dev.whack.client;

/**
 * A tenant of a node, as {@code tenant list} reports it (docs/protocol.md, "Tenants"): its quota (0
 * is no limit of its own) and what it uses now.
 *
 * @param name the tenant's name; {@code default} is the node's own keyspace
 * @param memoryQuota its keyspace's cap in bytes, carved out of the node's {@code --memory} (0 for
 *     the default tenant, which keeps the rest: {@link #maxBytes})
 * @param segmentsQuota how many segments it may define (0: the node's limit)
 * @param rateQuota requests a second over all its connections (0: no limit)
 * @param items items (opaque values and profiles) it holds
 * @param bytes bytes its items take
 * @param maxBytes the cap its items are evicted at
 * @param segments segments it has defined
 * @param connections connections working in it now
 * @param overRate requests refused for its rate quota since the node started
 * @param paused times its connections were paused for taking more than their fair share
 */
public record TenantInfo(
    String name,
    long memoryQuota,
    int segmentsQuota,
    long rateQuota,
    long items,
    long bytes,
    long maxBytes,
    int segments,
    int connections,
    long overRate,
    long paused) {}
