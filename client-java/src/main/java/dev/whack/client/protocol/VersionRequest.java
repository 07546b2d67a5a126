package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;

/** {@code version}: {@code VERSION <v>}. The health probe of a node that was down. */
public final class VersionRequest extends LineRequest<String> {
  public VersionRequest() {
    super(null, null);
  }

  @Override
  public String command() {
    return "version";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, "version\r\n");
  }

  @Override
  boolean parseLine(String line) {
    if (line.startsWith("VERSION ")) {
      return succeed(line.substring(8));
    }
    return errorOrCorrupt(line);
  }
}
