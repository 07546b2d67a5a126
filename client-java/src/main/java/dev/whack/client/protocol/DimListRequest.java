package dev.whack.client.protocol;

import dev.whack.client.DimensionInfo;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code dimlist}: {@code DIMENSION <name> <definition JSON>} per dimension, in the node's
 * definition order, then {@code END}.
 */
public final class DimListRequest extends Request<List<DimensionInfo>> {
  private static final byte[] END = Lines.ascii("END\r\n");
  private static final String PREFIX = "DIMENSION ";
  private final List<DimensionInfo> dimensions = new ArrayList<>();

  @Override
  public String command() {
    return "dimlist";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, Encode.LOCAL);
    Encode.word(out, "dimlist\r\n");
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (true) {
      if (Lines.consume(in, END)) {
        return succeed(List.copyOf(dimensions));
      }
      String line = Lines.readLine(in);
      if (line == null) {
        return false;
      }
      int nameEnd = line.indexOf(' ', PREFIX.length());
      if (!line.startsWith(PREFIX) || nameEnd < 0) {
        if (dimensions.isEmpty()) {
          return errorOrCorrupt(line);
        }
        throw unexpected(line);
      }
      dimensions.add(
          new DimensionInfo(line.substring(PREFIX.length(), nameEnd), line.substring(nameEnd + 1)));
    }
  }
}
