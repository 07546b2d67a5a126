package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/** {@code dimdef <name> <bytes>\r\n<json>\r\n}: {@code DEFINED}. */
public final class DimDefineRequest extends LineRequest<Void> {
  private static final byte[] DEFINED = Lines.ascii("DEFINED\r\n");
  private final byte[] name;
  private final byte[] definition;

  public DimDefineRequest(String name, String definition) {
    super(DEFINED, null);
    this.name = Keys.dimensionName(name);
    this.definition = definition.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String command() {
    return "dimdef";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, Encode.LOCAL);
    Encode.word(out, "dimdef ");
    out.writeBytes(name);
    out.writeByte(Encode.SPACE);
    Encode.number(out, definition.length);
    Encode.crlf(out);
    Encode.block(out, definition);
  }

  @Override
  boolean parseLine(String line) {
    return errorOrCorrupt(line);
  }
}
