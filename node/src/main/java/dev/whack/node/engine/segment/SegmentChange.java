package dev.whack.node.engine.segment;

/**
 * A profile entered or left a segment, at {@code timeMillis} by the node's clock.
 *
 * @param key the profile key, one char per byte (ISO-8859-1), so any key comes through unaltered
 */
public record SegmentChange(String segment, String key, boolean enter, long timeMillis) {
  public dev.whack.proto.SegmentChange toProto() {
    return dev.whack.proto.SegmentChange.newBuilder()
        .setKind(
            enter
                ? dev.whack.proto.SegmentChange.Kind.ENTER
                : dev.whack.proto.SegmentChange.Kind.LEAVE)
        .setSegment(segment)
        .setKey(key)
        .setTimeMillis(timeMillis)
        .build();
  }
}
