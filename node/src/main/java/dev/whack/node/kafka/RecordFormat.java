package dev.whack.node.kafka;

import dev.whack.node.keyspace.KeyspaceSession.SourcedKind;
import dev.whack.node.keyspace.KeyspaceSession.SourcedWrite;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * What a record of the updates topic holds (docs/kafka.md, "Records"): no value (a tombstone)
 * deletes the profile; the header {@code whack-type} says {@code update} (the default) or {@code
 * profile} (a whole profile); the value's first byte that is not JSON white space says the
 * encoding: {@code '{'} is JSON, anything else protobuf ({@code whack.v1.Update} or {@code
 * whack.v1.Profile}).
 */
public final class RecordFormat {
  /** The header that says whether a record is an update or a whole profile. */
  public static final String TYPE_HEADER = "whack-type";

  private static final byte[] UPDATE = "update".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PROFILE = "profile".getBytes(StandardCharsets.US_ASCII);

  private RecordFormat() {}

  /**
   * The record's kind.
   *
   * @throws IllegalArgumentException when the type header names neither kind
   */
  public static SourcedKind kindOf(Headers headers, ByteBuffer value) {
    if (value == null) {
      return SourcedKind.DELETE;
    }
    boolean profile = false;
    Header type = headers.lastHeader(TYPE_HEADER);
    if (type != null) {
      byte[] name = type.value();
      if (java.util.Arrays.equals(name, PROFILE)) {
        profile = true;
      } else if (!java.util.Arrays.equals(name, UPDATE)) {
        throw new IllegalArgumentException(
            "header "
                + TYPE_HEADER
                + " must be update or profile, not \""
                + (name == null ? "" : new String(name, StandardCharsets.UTF_8))
                + "\"");
      }
    }
    Header encoding = headers.lastHeader(ENCODING_HEADER);
    boolean json =
        encoding == null
            ? isJson(value)
            : !java.util.Arrays.equals(encoding.value(), PROTOBUF_ENCODING);
    if (profile) {
      return json ? SourcedKind.PROFILE_JSON : SourcedKind.PROFILE_PROTOBUF;
    }
    return json ? SourcedKind.UPDATE_JSON : SourcedKind.UPDATE_PROTOBUF;
  }

  /**
   * The header of a record a member of a managed cluster wrote for a memcached client (docs/
   * cluster.md, "Writes through the log"): 8 bytes naming the member's writer, 8 bytes the write,
   * so that the member answers the client once its own source has applied it.
   */
  public static final String WRITE_HEADER = "whack-write";

  /**
   * {@code protobuf} when the value is a protobuf message, whatever its first byte (a member's
   * records for its clients say it; without it the first byte decides).
   */
  public static final String ENCODING_HEADER = "whack-encoding";

  private static final byte[] PROTOBUF_ENCODING = "protobuf".getBytes(StandardCharsets.US_ASCII);

  /**
   * A whole profile's flags as the client's set gave them (decimal); with {@link #WRITE_HEADER}.
   */
  public static final String FLAGS_HEADER = "whack-flags";

  /** A whole profile's expiry: absolute Unix seconds, or -1 for already expired (decimal). */
  public static final String EXPIRES_HEADER = "whack-expires";

  /**
   * How a record is stored: {@link SourcedWrite#PLAIN} unless a member wrote it for a client, then
   * with the client's flags and expiry, and with the client's own producer marks allowed.
   *
   * @throws IllegalArgumentException when a flags or expiry header is no decimal number
   */
  public static SourcedWrite howToStore(Headers headers) {
    if (headers.lastHeader(WRITE_HEADER) == null) {
      return SourcedWrite.PLAIN;
    }
    Header flags = headers.lastHeader(FLAGS_HEADER);
    Header expires = headers.lastHeader(EXPIRES_HEADER);
    return new SourcedWrite(
        flags == null ? 0 : (int) Long.parseLong(decimal(flags)),
        expires == null ? 0 : Long.parseLong(decimal(expires)),
        true);
  }

  private static String decimal(Header header) {
    return header.value() == null ? "" : new String(header.value(), StandardCharsets.US_ASCII);
  }

  private static boolean isJson(ByteBuffer value) {
    for (int i = value.position(); i < value.limit(); i++) {
      byte b = value.get(i);
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        return b == '{';
      }
    }
    return false;
  }
}
