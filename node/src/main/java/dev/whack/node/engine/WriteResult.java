package dev.whack.node.engine;

/**
 * Outcome of a put or update.
 *
 * @param applied false when the update was a replay (its seq at or below the producer's mark):
 *     acknowledged and ignored
 * @param created true when the write created the profile
 * @param footprintBytes estimated bytes the profile now uses on the node (for a memory cap)
 * @param ordinal the profile's ordinal, which it keeps until it is removed (a store that indexes
 *     the key itself hands it back to address the profile without a lookup); -1 when none
 * @param atMillis the engine's time of the write, read under the key's lock: a log records it so
 *     that replay applies the write at the same time (events land on the same days)
 */
public record WriteResult(
    boolean applied, boolean created, int footprintBytes, int ordinal, long atMillis) {}
