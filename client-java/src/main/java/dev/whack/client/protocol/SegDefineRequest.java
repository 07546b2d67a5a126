package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * {@code segdef <name> <bytes>\r\n<expression>\r\n}: {@code DEFINED <size>}, the size on this node
 * after the backfill.
 */
public final class SegDefineRequest extends LineRequest<Long> {
  private final byte[] name;
  private final byte[] expression;

  public SegDefineRequest(String name, String expression) {
    super(null, null);
    this.name = Keys.segmentName(name);
    this.expression = expression.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String command() {
    return "segdef";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, Encode.LOCAL);
    Encode.word(out, "segdef ");
    out.writeBytes(name);
    out.writeByte(Encode.SPACE);
    Encode.number(out, expression.length);
    Encode.crlf(out);
    Encode.block(out, expression);
  }

  @Override
  boolean parseLine(String line) {
    if (line.startsWith("DEFINED ")) {
      return succeed(Lines.nonNegativeLong(line.substring(8), line));
    }
    return errorOrCorrupt(line);
  }
}
