package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;

/**
 * {@code set <key> <flags> <exptime> <bytes>\r\n<data>\r\n}: {@code STORED} is true, {@code
 * NOT_STORED} false.
 */
public final class StoreRequest extends LineRequest<Boolean> {
  private static final byte[] STORED = Lines.ascii("STORED\r\n");
  private final byte[] key;
  private final int flags;
  private final int expirySeconds;
  private final byte[] value;

  public StoreRequest(byte[] key, int flags, int expirySeconds, byte[] value) {
    super(STORED, Boolean.TRUE);
    if (value.length > Lines.MAX_BLOCK_BYTES) {
      throw new IllegalArgumentException("a value of " + value.length + " bytes is too large");
    }
    this.key = key;
    this.flags = flags;
    this.expirySeconds = expirySeconds;
    this.value = value;
  }

  @Override
  public String command() {
    return "set";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, "set ");
    out.writeBytes(key);
    out.writeByte(Encode.SPACE);
    Encode.number(out, Integer.toUnsignedLong(flags));
    out.writeByte(Encode.SPACE);
    Encode.number(out, expirySeconds);
    out.writeByte(Encode.SPACE);
    Encode.number(out, value.length);
    Encode.crlf(out);
    Encode.block(out, value);
  }

  @Override
  boolean parseLine(String line) {
    if (line.equals("NOT_STORED")) {
      return succeed(Boolean.FALSE);
    }
    return errorOrCorrupt(line);
  }
}
