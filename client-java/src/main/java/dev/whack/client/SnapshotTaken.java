package dev.whack.client;

/**
 * A snapshot a node wrote on request ({@link WhackClient#snapshot}).
 *
 * @param bytes the snapshot file's size
 * @param records the records in it (items, profiles, segment definitions)
 * @param millis how long writing it took
 */
public record SnapshotTaken(long bytes, long records, long millis) {}
