package dev.whack.client.protocol;

import dev.whack.client.SegmentChange;
import java.time.Instant;

/**
 * A line a watching connection receives between replies: {@code CHANGE enter|leave <segment> <key>
 * <unix-millis>} or {@code MISSED <n>}. Replies never begin with {@code CHANGE} or {@code MISSED},
 * so the first bytes at a reply boundary tell a push from a reply.
 */
public sealed interface PushLine {
  record Change(String segment, String key, SegmentChange.Kind kind, Instant time)
      implements PushLine {}

  record Missed(long count) implements PushLine {}

  /** The bytes at the reply boundary are a reply, not a push. */
  record NotAPush() implements PushLine {}

  PushLine NOT_A_PUSH = new NotAPush();
}
