package dev.whack.node.engine;

/**
 * A profile's membership of a segment and when it began: epoch millis, kept to the second (a
 * membership's entered time is stored in whole seconds).
 */
public record SegmentMembership(String segment, long enteredMillis) {}
