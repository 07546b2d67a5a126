package dev.whack.node.engine;

/** A point-in-time summary of the engine for stats and metrics. */
public record EngineStats(
    int profiles,
    int segments,
    int attributeNames,
    int eventNames,
    long nameBytes,
    int pendingReevaluations,
    int subscribers) {}
