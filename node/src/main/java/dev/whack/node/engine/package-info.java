/**
 * The profile and segment engine: {@link dev.whack.node.engine.ProfileEngine} is the entry point
 * the network layer calls. No network code lives here or below, and nothing here depends on the
 * memcached store. Sub-packages, one per concept: {@code json} (external forms), {@code codec}
 * (bytes), {@code profile} (compact profiles and their table), {@code event} (daily series and
 * windows), {@code expr} (the segment language), {@code segment} (membership, queries, changes).
 * See docs/architecture.md, "Profile and segment engine".
 */
package dev.whack.node.engine;
