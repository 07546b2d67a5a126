package dev.whack.node.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.SegmentMembership;
import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.Keyspace.Holds;
import dev.whack.node.keyspace.Keyspace.ProfileRead;
import dev.whack.proto.Profile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A keyed read asked of the key's owner in the binary protocol (docs/protocol.md, "Binary
 * protocol"), which carries a key's bytes as they are: an HTTP key may hold any byte, a space or a
 * control byte included, which no text command line can carry. A Get (opcode {@code 0x00}) reads
 * the value and its flags; for the segments, a SegOf ({@code 0x67}) follows in the same relay. The
 * owner's answer is read into the same {@link ProfileRead} a local read gives.
 */
final class OwnerReads {
  private static final int HEADER = 24;
  private static final int REQUEST_MAGIC = 0x80;
  private static final int RESPONSE_MAGIC = 0x81;
  private static final int GET = 0x00;
  private static final int SEG_OF = 0x67;
  private static final int STATUS_NOT_FOUND = 0x0001;
  private static final byte[] NO_VALUE = new byte[0];

  /** SegOf's value asking for each segment's entered time (docs/protocol.md). */
  private static final byte[] SINCE = "since".getBytes(StandardCharsets.US_ASCII);

  private OwnerReads() {}

  /** The owner answered with an error of its own: its words. */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;

    Refused(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * A Get of the key, and with {@code segments} a SegOf of it after, with {@code since} (each
   * segment's entered time).
   */
  static byte[] request(byte[] key, boolean segments) {
    int size = HEADER + key.length + (segments ? HEADER + key.length + SINCE.length : 0);
    ByteBuffer out = ByteBuffer.allocate(size);
    packet(out, GET, key, NO_VALUE);
    if (segments) {
      packet(out, SEG_OF, key, SINCE);
    }
    return out.array();
  }

  private static void packet(ByteBuffer out, int opcode, byte[] key, byte[] value) {
    out.put((byte) REQUEST_MAGIC).put((byte) opcode).putShort((short) key.length);
    out.put((byte) 0).put((byte) 0).putShort((short) 0); // extras, data type, vbucket
    out.putInt(key.length + value.length).putInt(0).putLong(0); // body, opaque, cas
    out.put(key).put(value);
  }

  /**
   * The owner's responses to {@link #request}, read as what the key holds there.
   *
   * @throws Refused when the owner answered an error (or something this reader cannot follow)
   */
  static ProfileRead read(byte[] reply, boolean segments) throws Refused {
    ByteBuffer in = ByteBuffer.wrap(reply);
    int status = header(in, GET);
    int extras = in.get(in.position() - HEADER + 4) & 0xFF;
    int keyLength = in.getShort(in.position() - HEADER + 2) & 0xFFFF;
    int body = in.getInt(in.position() - HEADER + 8);
    byte[] value = Arrays.copyOfRange(reply, in.position(), in.position() + body);
    in.position(in.position() + body);
    if (status == STATUS_NOT_FOUND) {
      skipSegments(in, segments);
      return new ProfileRead(Holds.NOTHING, null, null);
    }
    if (status != 0) {
      throw new Refused(new String(value, UTF_8));
    }
    int flags = extras >= 4 ? ByteBuffer.wrap(value).getInt() : 0;
    byte[] data = Arrays.copyOfRange(value, extras + keyLength, value.length);
    byte[] json = profileJson(flags, data);
    if (json == null) {
      skipSegments(in, segments);
      return new ProfileRead(Holds.OPAQUE_VALUE, null, null);
    }
    if (!segments) {
      return new ProfileRead(Holds.PROFILE, json, null);
    }
    return new ProfileRead(Holds.PROFILE, null, memberships(in));
  }

  /**
   * The value as Profile JSON if it is a profile, else null. The owner stores every valid Profile
   * JSON document as a profile and a protobuf profile under its flags, so what does not read as
   * either never was one. (A document the engine refused for a limit when it was stored, kept as an
   * opaque value, would read as one here: docs/http.md, "Limits".)
   */
  private static byte[] profileJson(int flags, byte[] data) {
    try {
      if (flags == Keyspace.PROTOBUF_PROFILE_FLAGS) {
        return ProfileJson.write(Profile.parseFrom(data));
      }
      if (data.length == 0 || data[0] != '{') {
        return null;
      }
      ProfileJson.parse(data); // the owner wrote it canonical: only whether it is a profile counts
      return data;
    } catch (InvalidProtocolBufferException | EngineException | IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * SegOf's responses with {@code since}: one per segment (key = name, value = entered epoch
   * millis, 8 bytes), then one with no key.
   */
  private static List<SegmentMembership> memberships(ByteBuffer in) throws Refused {
    List<SegmentMembership> names = new ArrayList<>();
    while (true) {
      int status = header(in, SEG_OF);
      int keyLength = in.getShort(in.position() - HEADER + 2) & 0xFFFF;
      int extras = in.get(in.position() - HEADER + 4) & 0xFF;
      int body = in.getInt(in.position() - HEADER + 8);
      int start = in.position();
      in.position(start + body);
      if (status != 0) {
        throw new Refused(new String(in.array(), start, body, UTF_8));
      }
      if (keyLength == 0) {
        return names;
      }
      if (body != extras + keyLength + Long.BYTES) {
        throw new Refused("answered a segment without the time it entered it");
      }
      names.add(
          new SegmentMembership(
              new String(in.array(), start + extras, keyLength, UTF_8),
              in.getLong(start + extras + keyLength)));
    }
  }

  private static void skipSegments(ByteBuffer in, boolean segments) throws Refused {
    if (segments) {
      memberships(in);
    }
  }

  /**
   * Checks the next response's header (a whole packet there, the opcode expected) and moves past
   * it; returns its status.
   */
  private static int header(ByteBuffer in, int opcode) throws Refused {
    if (in.remaining() < HEADER) {
      throw new Refused("answered an incomplete reply");
    }
    int at = in.position();
    long body = in.getInt(at + 8) & 0xFFFFFFFFL;
    if ((in.get(at) & 0xFF) != RESPONSE_MAGIC
        || (in.get(at + 1) & 0xFF) != opcode
        || in.remaining() < HEADER + body) {
      throw new Refused("answered a reply this node cannot read");
    }
    in.position(at + HEADER);
    return in.getShort(at + 6) & 0xFFFF;
  }
}
