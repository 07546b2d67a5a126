package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code stats [<group>]}: {@code STAT <name> <value>} per statistic, in the node's order, then
 * {@code END}. memcached's general group when no group is given.
 */
public final class StatsRequest extends Request<Map<String, String>> {
  private static final byte[] END = Lines.ascii("END\r\n");
  private final String group;
  private final Map<String, String> stats = new LinkedHashMap<>();

  /**
   * @param group {@code ""} for the general statistics, else {@code settings}, {@code items}...
   */
  public StatsRequest(String group) {
    if (!group.isEmpty()) {
      Keys.segmentName(group); // one token: no spaces or control characters
    }
    this.group = group;
  }

  @Override
  public String command() {
    return "stats";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, group.isEmpty() ? "stats" : "stats " + group);
    Encode.crlf(out);
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (true) {
      if (Lines.consume(in, END)) {
        return succeed(Collections.unmodifiableMap(stats));
      }
      String line = Lines.readLine(in);
      if (line == null) {
        return false;
      }
      int nameEnd = line.indexOf(' ', 5);
      if (line.startsWith("STAT ") && nameEnd > 5) {
        stats.put(line.substring(5, nameEnd), line.substring(nameEnd + 1));
      } else if (stats.isEmpty()) {
        return errorOrCorrupt(line);
      } else {
        throw unexpected(line);
      }
    }
  }
}
