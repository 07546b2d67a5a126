package dev.whack.client;

import java.time.Instant;

/** A profile entered or left a watched segment, as reported by the node that owns the profile. */
public record SegmentChange(String segment, String key, Kind kind, Instant time, String node) {
  /** Whether the profile entered or left the segment. */
  public enum Kind {
    /** The profile became a member. */
    ENTER,
    /** The profile stopped being a member. */
    LEAVE
  }
}
