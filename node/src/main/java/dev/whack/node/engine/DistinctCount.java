package dev.whack.node.engine;

/**
 * A number of distinct values: exact (up to 32-bit hash collisions, about n^2/2^33 of n values), or
 * an UltraLogLog estimate rounded (docs/profiles.md, "Distinct counts", has the error bound).
 */
public record DistinctCount(long value, boolean exact) {}
