package dev.whack.node.keyspace;

/**
 * An opaque item as a listing ({@code itemdump}) gives it. The arrays are the item's own, which
 * never change once stored: do not change them.
 *
 * @param ttlSeconds seconds until it expires as of the listing (at least 1), or 0 for never
 */
public record ListedItem(byte[] key, int flags, long ttlSeconds, byte[] value) {}
