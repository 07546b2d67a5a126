package dev.whack.client;

import java.time.Instant;

/**
 * A profile's membership of a segment and when it began, as the profile's owner keeps it (to the
 * second): {@code segof <key> since}.
 */
public record SegmentMembership(String segment, Instant entered) {}
