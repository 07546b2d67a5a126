package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code segmembers <bytes> <limit> [<cursor>]\r\n<query>\r\n} (or {@code filtermembers}): {@code
 * KEY <key>} per member, then {@code NEXT <cursor>} if there are more, else {@code END}.
 */
public final class MembersRequest extends Request<MembersPage> {
  private static final byte[] END = Lines.ascii("END\r\n");
  private final String command;
  private final byte[] expression;
  private final int limit;
  private final byte[] cursor;
  private final List<String> keys = new ArrayList<>();

  private MembersRequest(String command, String expression, int limit, String cursor) {
    if (limit <= 0) {
      throw new IllegalArgumentException("a page limit is positive, got " + limit);
    }
    this.command = command;
    this.expression = expression.getBytes(StandardCharsets.UTF_8);
    this.limit = limit;
    this.cursor = cursor == null ? null : Keys.cursor(cursor);
  }

  public static MembersRequest segment(String query, int limit, String cursor) {
    return new MembersRequest("segmembers", query, limit, cursor);
  }

  public static MembersRequest filter(String filter, int limit, String cursor) {
    return new MembersRequest("filtermembers", filter, limit, cursor);
  }

  @Override
  public String command() {
    return command;
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, Encode.LOCAL);
    Encode.word(out, command);
    out.writeByte(Encode.SPACE);
    Encode.number(out, expression.length);
    out.writeByte(Encode.SPACE);
    Encode.number(out, limit);
    if (cursor != null) {
      out.writeByte(Encode.SPACE);
      out.writeBytes(cursor);
    }
    Encode.crlf(out);
    Encode.block(out, expression);
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (true) {
      if (Lines.consume(in, END)) {
        return succeed(new MembersPage(List.copyOf(keys), null));
      }
      String line = Lines.readLine(in);
      if (line == null) {
        return false;
      }
      if (line.startsWith("KEY ") && line.length() > 4 && line.indexOf(' ', 4) < 0) {
        keys.add(Keys.unescape(line.substring(4)));
      } else if (line.startsWith("NEXT ") && line.length() > 5 && line.indexOf(' ', 5) < 0) {
        return succeed(new MembersPage(List.copyOf(keys), line.substring(5)));
      } else if (keys.isEmpty()) {
        return errorOrCorrupt(line);
      } else {
        throw unexpected(line);
      }
    }
  }
}
