package dev.whack.node.grpc;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.proto.Profile;
import dev.whack.proto.SegmentMembership;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads an owner's text reply to a keyed read this node forwarded for a gRPC call: a {@code get} (a
 * profile in the encoding it was written in) or a {@code segof}. An error line is the owner's
 * refusal, UNAVAILABLE naming it.
 */
final class OwnersValue {
  private OwnersValue() {}

  /**
   * The profile in a {@code get} reply ({@code VALUE <key> <flags> <bytes>}, data, {@code END}), or
   * null when the key holds none. A value that is not a profile (an opaque item) is none: the owner
   * stores every valid Profile JSON as a profile and a protobuf profile under its flags, so what
   * does not read as either never was one.
   */
  static Profile profile(String owner, byte[] reply) {
    int eol = lineEnd(owner, reply, 0);
    String line = new String(reply, 0, eol, ISO_8859_1);
    if (line.equals("END")) {
      return null;
    }
    String[] t = line.split(" ");
    if (t.length < 4 || !t[0].equals("VALUE")) {
      throw refusal(owner, line);
    }
    int flags = Integer.parseUnsignedInt(t[2]);
    int length = Integer.parseInt(t[3]);
    int start = eol + 2;
    if (start + length > reply.length) {
      throw Status.UNAVAILABLE
          .withDescription(owner + " answered an incomplete value")
          .asRuntimeException();
    }
    byte[] value = Arrays.copyOfRange(reply, start, start + length);
    try {
      Profile profile =
          flags == Keyspace.PROTOBUF_PROFILE_FLAGS
              ? Profile.parseFrom(value)
              : ProfileJson.parse(value);
      return profile.toBuilder().setKey(t[1]).build(); // JSON carries no key; the reply's line does
    } catch (InvalidProtocolBufferException | EngineException | IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * The memberships in a {@code segof <key> since} reply ({@code IN <name> <millis>} each, then
   * {@code END}).
   */
  static List<SegmentMembership> memberships(String owner, byte[] reply) {
    List<SegmentMembership> out = new ArrayList<>();
    int pos = 0;
    while (true) {
      int eol = lineEnd(owner, reply, pos);
      String line = new String(reply, pos, eol - pos, UTF_8);
      if (line.equals("END")) {
        return out;
      }
      int space = line.lastIndexOf(' ');
      if (!line.startsWith("IN ") || space < 3) {
        throw refusal(owner, line);
      }
      try {
        out.add(
            SegmentMembership.newBuilder()
                .setSegment(line.substring(3, space))
                .setEnteredMillis(Long.parseLong(line.substring(space + 1)))
                .build());
      } catch (NumberFormatException e) {
        throw refusal(owner, line);
      }
      pos = eol + 2;
    }
  }

  private static int lineEnd(String owner, byte[] reply, int from) {
    for (int i = from; i + 1 < reply.length; i++) {
      if (reply[i] == '\r' && reply[i + 1] == '\n') {
        return i;
      }
    }
    throw Status.UNAVAILABLE
        .withDescription(owner + " answered an incomplete reply")
        .asRuntimeException();
  }

  private static StatusRuntimeException refusal(String owner, String line) {
    String reason =
        line.startsWith("SERVER_ERROR ") || line.startsWith("CLIENT_ERROR ")
            ? line.substring(13)
            : "answered '" + line + "'";
    return Status.UNAVAILABLE.withDescription(owner + ": " + reason).asRuntimeException();
  }
}
