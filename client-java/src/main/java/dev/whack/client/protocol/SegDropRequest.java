package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;

/**
 * {@code segdrop <name> [force]}: {@code DROPPED} is true, {@code NOT_FOUND} false. With force, the
 * segments that read it ({@code in_segment}) are dropped with it.
 */
public final class SegDropRequest extends LineRequest<Boolean> {
  private static final byte[] DROPPED = Lines.ascii("DROPPED\r\n");
  private final byte[] name;
  private final boolean force;

  public SegDropRequest(String name) {
    this(name, false);
  }

  public SegDropRequest(String name, boolean force) {
    super(DROPPED, Boolean.TRUE);
    this.name = Keys.segmentName(name);
    this.force = force;
  }

  @Override
  public String command() {
    return "segdrop";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, Encode.LOCAL);
    Encode.word(out, "segdrop ");
    out.writeBytes(name);
    if (force) {
      Encode.word(out, " force");
    }
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
