package dev.whack.client.protocol;

import dev.whack.client.SegmentMembership;
import io.netty.buffer.ByteBuf;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code segof <key> since}: {@code IN <name> <unix-millis-entered>} per segment the profile is in,
 * then {@code END}.
 */
public final class SegOfSinceRequest extends Request<List<SegmentMembership>> {
  private static final byte[] END = Lines.ascii("END\r\n");
  private final byte[] key;
  private final List<SegmentMembership> memberships = new ArrayList<>();

  public SegOfSinceRequest(byte[] key) {
    this.key = key;
  }

  @Override
  public String command() {
    return "segof";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, "segof ");
    out.writeBytes(key);
    Encode.word(out, " since");
    Encode.crlf(out);
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (true) {
      if (Lines.consume(in, END)) {
        return succeed(List.copyOf(memberships));
      }
      String line = Lines.readLine(in);
      if (line == null) {
        return false;
      }
      SegmentMembership m = membership(line);
      if (m != null) {
        memberships.add(m);
      } else if (memberships.isEmpty()) {
        return errorOrCorrupt(line);
      } else {
        throw unexpected(line);
      }
    }
  }

  /** {@code IN <name> <millis>}, or null when the line is not one. */
  private static SegmentMembership membership(String line) {
    int space = line.lastIndexOf(' ');
    if (!line.startsWith("IN ") || space <= 3 || line.indexOf(' ', 3) != space) {
      return null;
    }
    try {
      return new SegmentMembership(
          line.substring(3, space),
          Instant.ofEpochMilli(Long.parseLong(line.substring(space + 1))));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
