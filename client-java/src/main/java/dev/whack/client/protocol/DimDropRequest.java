package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;

/** {@code dimdrop <name>}: {@code DROPPED} is true, {@code NOT_FOUND} false. */
public final class DimDropRequest extends LineRequest<Boolean> {
  private static final byte[] DROPPED = Lines.ascii("DROPPED\r\n");
  private final byte[] name;

  public DimDropRequest(String name) {
    super(DROPPED, Boolean.TRUE);
    this.name = Keys.dimensionName(name);
  }

  @Override
  public String command() {
    return "dimdrop";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, Encode.LOCAL);
    Encode.word(out, "dimdrop ");
    out.writeBytes(name);
    Encode.crlf(out);
  }

  @Override
  boolean parseLine(String line) {
    if (line.equals("NOT_FOUND")) {
      return succeed(Boolean.FALSE);
    }
    return errorOrCorrupt(line);
  }
}
