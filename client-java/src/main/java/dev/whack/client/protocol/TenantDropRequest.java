package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;

/** {@code tenant drop <name>}: {@code DROPPED} is true, {@code NOT_FOUND} false. */
public final class TenantDropRequest extends LineRequest<Boolean> {
  private static final byte[] DROPPED = Lines.ascii("DROPPED\r\n");
  private final String name;

  public TenantDropRequest(String name) {
    super(DROPPED, Boolean.TRUE);
    this.name = Keys.tenantName(name);
  }

  @Override
  public String command() {
    return "tenant drop";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, "tenant drop " + name + "\r\n");
  }

  @Override
  boolean parseLine(String line) {
    if (line.equals("NOT_FOUND")) {
      return succeed(Boolean.FALSE);
    }
    return errorOrCorrupt(line);
  }
}
