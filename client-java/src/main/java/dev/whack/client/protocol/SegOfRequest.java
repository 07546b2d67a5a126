package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/** {@code segof <key>}: {@code IN <name>} per segment the profile is in, then {@code END}. */
public final class SegOfRequest extends Request<List<String>> {
  private static final byte[] END = Lines.ascii("END\r\n");
  private final byte[] key;
  private final List<String> names = new ArrayList<>();

  public SegOfRequest(byte[] key) {
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
    Encode.crlf(out);
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (true) {
      if (Lines.consume(in, END)) {
        return succeed(List.copyOf(names));
      }
      String line = Lines.readLine(in);
      if (line == null) {
        return false;
      }
      if (line.startsWith("IN ") && line.length() > 3 && line.indexOf(' ', 3) < 0) {
        names.add(line.substring(3));
      } else if (names.isEmpty()) {
        return errorOrCorrupt(line);
      } else {
        throw unexpected(line);
      }
    }
  }
}
