package dev.whack.client.protocol;

import dev.whack.client.SegmentInfo;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code seglist}: {@code SEGMENT <name> <size> <bytes>\r\n<expression>\r\n} per segment, then
 * {@code END}. Sizes are this node's.
 */
public final class SegListRequest extends Request<List<SegmentInfo>> {
  private static final byte[] END = Lines.ascii("END\r\n");
  private final List<SegmentInfo> segments = new ArrayList<>();
  private String pendingName;
  private long pendingSize;
  private int pendingLength = -1;

  @Override
  public String command() {
    return "seglist";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, Encode.LOCAL);
    Encode.word(out, "seglist\r\n");
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (true) {
      if (pendingLength >= 0) {
        byte[] expression = Lines.readBlock(in, pendingLength);
        if (expression == null) {
          return false;
        }
        segments.add(
            new SegmentInfo(
                pendingName, pendingSize, new String(expression, StandardCharsets.UTF_8)));
        pendingLength = -1;
        continue;
      }
      if (Lines.consume(in, END)) {
        return succeed(List.copyOf(segments));
      }
      String line = Lines.readLine(in);
      if (line == null) {
        return false;
      }
      String[] tokens = line.split(" ", -1);
      if (tokens.length != 4 || !tokens[0].equals("SEGMENT")) {
        if (segments.isEmpty()) {
          return errorOrCorrupt(line);
        }
        throw unexpected(line);
      }
      pendingName = tokens[1];
      pendingSize = Lines.nonNegativeLong(tokens[2], line);
      pendingLength = Lines.blockLength(tokens[3], line);
    }
  }
}
