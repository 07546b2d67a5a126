package dev.whack.node.engine;

/**
 * Outcome of a put or update.
 *
 * @param applied false when the update was a replay (its seq at or below the producer's mark):
 *     acknowledged and ignored
 * @param created true when the write created the profile
 * @param footprintBytes estimated bytes the profile now uses on the node (for a memory cap)
 */
public record WriteResult(boolean applied, boolean created, int footprintBytes) {}
