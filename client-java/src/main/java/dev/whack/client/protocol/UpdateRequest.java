package dev.whack.client.protocol;

import dev.whack.client.UpdateResult;
import io.netty.buffer.ByteBuf;

/**
 * {@code update <key> <bytes> [proto]\r\n<body>\r\n}: {@code UPDATED} or {@code IGNORED}. The
 * {@code proto} token marks a protobuf {@code whack.v1.Update}; without it the body is Update JSON.
 */
public final class UpdateRequest extends LineRequest<UpdateResult> {
  private static final byte[] UPDATED = Lines.ascii("UPDATED\r\n");
  private final byte[] key;
  private final byte[] body;
  private final boolean protobuf;

  public UpdateRequest(byte[] key, byte[] body) {
    this(key, body, false);
  }

  public UpdateRequest(byte[] key, byte[] body, boolean protobuf) {
    super(UPDATED, UpdateResult.UPDATED);
    if (body.length > Lines.MAX_BLOCK_BYTES) {
      throw new IllegalArgumentException("an update of " + body.length + " bytes is too large");
    }
    this.key = key;
    this.body = body;
    this.protobuf = protobuf;
  }

  @Override
  public String command() {
    return "update";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, "update ");
    out.writeBytes(key);
    out.writeByte(Encode.SPACE);
    Encode.number(out, body.length);
    if (protobuf) {
      Encode.word(out, " proto");
    }
    Encode.crlf(out);
    Encode.block(out, body);
  }

  @Override
  boolean parseLine(String line) {
    if (line.equals("IGNORED")) {
      return succeed(UpdateResult.IGNORED);
    }
    return errorOrCorrupt(line);
  }
}
