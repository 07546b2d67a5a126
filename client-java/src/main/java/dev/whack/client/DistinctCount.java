package dev.whack.client;

/**
 * How many distinct values of a property or distinct dimension a segment's members have ({@link
 * Segments#distinct}): exact while every input was (docs/profiles.md, "Distinct counts"), else an
 * estimate with the error the docs state for the dimension's precision.
 */
public record DistinctCount(long count, boolean exact) {}
