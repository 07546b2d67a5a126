package dev.whack.client;

/**
 * A defined preference dimension: its name and its definition, as the node writes it back (its
 * canonical JSON, every default filled in: docs/protocol.md, "Dimensions").
 */
public record DimensionInfo(String name, String definition) {}
