package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;

/** {@code delete <key>}: {@code DELETED} is true, {@code NOT_FOUND} false. */
public final class DeleteRequest extends LineRequest<Boolean> {
  private static final byte[] DELETED = Lines.ascii("DELETED\r\n");
  private final byte[] key;

  public DeleteRequest(byte[] key) {
    super(DELETED, Boolean.TRUE);
    this.key = key;
  }

  @Override
  public String command() {
    return "delete";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, "delete ");
    out.writeBytes(key);
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
