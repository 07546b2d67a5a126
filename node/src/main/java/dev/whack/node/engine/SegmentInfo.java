package dev.whack.node.engine;

/**
 * A defined segment as listed: name, expression source, member count, whether its answer depends on
 * time, and whether its backfill has finished.
 */
public record SegmentInfo(
    String name, String expression, long size, boolean timeDependent, boolean ready) {}
