package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** {@code watch <name>+}: {@code WATCHING <n>}; change lines follow on the same connection. */
public final class WatchRequest extends LineRequest<Integer> {
  private final List<byte[]> names = new ArrayList<>();

  public WatchRequest(Collection<String> segments) {
    super(null, null);
    if (segments.isEmpty()) {
      throw new IllegalArgumentException("watch at least one segment");
    }
    for (String name : segments) {
      names.add(Keys.segmentName(name));
    }
  }

  @Override
  public String command() {
    return "watch";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, Encode.LOCAL);
    Encode.word(out, "watch");
    for (byte[] name : names) {
      out.writeByte(Encode.SPACE);
      out.writeBytes(name);
    }
    Encode.crlf(out);
  }

  @Override
  boolean parseLine(String line) {
    if (line.startsWith("WATCHING ")) {
      return succeed(Lines.nonNegativeInt(line.substring(9), line));
    }
    return errorOrCorrupt(line);
  }
}
