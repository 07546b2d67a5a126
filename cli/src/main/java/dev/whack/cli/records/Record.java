package dev.whack.cli.records;

/**
 * One record of a load/dump stream, framed but not interpreted: its key and the bytes of its body,
 * a Profile, an Update, an opaque item ({@code {"value":BASE64,"flags":F,"ttl":T}} or an {@code
 * OpaqueItem}) or a segment definition (whose key is empty), in the encoding of the stream it came
 * from.
 *
 * @param position where it starts: the 1-based line (NDJSON) or the byte offset in the uncompressed
 *     stream (protobuf)
 */
public record Record(String key, Kind kind, boolean protobuf, byte[] body, long position) {
  public enum Kind {
    PROFILE,
    UPDATE,
    ITEM,
    SEGMENT
  }
}
