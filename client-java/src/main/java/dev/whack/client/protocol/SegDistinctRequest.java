package dev.whack.client.protocol;

import dev.whack.client.DistinctCount;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * {@code segdistinct <bytes> <name> [<window>]\r\n<query>\r\n}: {@code DISTINCT <n> exact} or
 * {@code DISTINCT <n> approximate}, for the node's whole cluster (a clustered node merges its
 * members' unions).
 */
public final class SegDistinctRequest extends Request<DistinctCount> {
  private final byte[] query;
  private final byte[] name;
  private final int windowDays;

  /**
   * @param windowDays days of a distinct dimension's window; 0 for the node's retention
   * @throws IllegalArgumentException a name that is not a token, or a negative window
   */
  public SegDistinctRequest(String query, String name, int windowDays) {
    if (windowDays < 0) {
      throw new IllegalArgumentException(
          "a window is a positive number of days, got " + windowDays);
    }
    this.query = query.getBytes(StandardCharsets.UTF_8);
    this.name = Keys.dimensionName(name);
    this.windowDays = windowDays;
  }

  @Override
  public String command() {
    return "segdistinct";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, "segdistinct ");
    Encode.number(out, query.length);
    out.writeByte(Encode.SPACE);
    out.writeBytes(name);
    if (windowDays > 0) {
      out.writeByte(Encode.SPACE);
      Encode.number(out, windowDays);
    }
    Encode.crlf(out);
    Encode.block(out, query);
  }

  @Override
  protected boolean parse(ByteBuf in) {
    String line = Lines.readLine(in);
    if (line == null) {
      return false;
    }
    if (!line.startsWith("DISTINCT ")) {
      return errorOrCorrupt(line);
    }
    int space = line.indexOf(' ', 9);
    if (space < 0) {
      throw unexpected(line);
    }
    String kind = line.substring(space + 1);
    if (!kind.equals("exact") && !kind.equals("approximate")) {
      throw unexpected(line);
    }
    long n = Lines.nonNegativeLong(line.substring(9, space), line);
    return succeed(new DistinctCount(n, kind.equals("exact")));
  }
}
