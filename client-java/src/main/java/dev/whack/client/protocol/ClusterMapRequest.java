package dev.whack.client.protocol;

import dev.whack.client.ring.ClusterMap;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code cluster map}: the map the node routes by, {@code MAP ...}, {@code MEMBER} and {@code SLOT}
 * lines, then {@code END} (docs/protocol.md, {@link ClusterMap}). A node that does not know the
 * command answers {@code ERROR}, which fails the future with a server error.
 */
public final class ClusterMapRequest extends Request<ClusterMap> {
  private final List<String> lines = new ArrayList<>();

  @Override
  public String command() {
    return "cluster map";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, "cluster map");
    Encode.crlf(out);
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (true) {
      String line = Lines.readLine(in);
      if (line == null) {
        return false;
      }
      if (lines.isEmpty() && !line.startsWith("MAP ")) {
        return errorOrCorrupt(line);
      }
      lines.add(line);
      if (line.equals("END")) {
        try {
          return succeed(ClusterMap.parse(lines));
        } catch (IllegalArgumentException e) {
          throw new ReplyFormatException("unreadable cluster map: " + e.getMessage());
        }
      }
    }
  }
}
