package dev.whack.client.protocol;

import dev.whack.client.DumpedProfile;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code segdump <bytes> <limit> [<cursor>]\r\n<query>\r\n}, the query empty for every profile:
 * {@code PROFILE <key> <bytes>\r\n<Profile JSON>\r\n} per profile, then {@code NEXT <cursor>} if
 * there may be more, else {@code END}.
 */
public final class DumpRequest extends Request<DumpPage> {
  private static final byte[] END = Lines.ascii("END\r\n");
  private final byte[] query;
  private final int limit;
  private final byte[] cursor;
  private final List<DumpedProfile> profiles = new ArrayList<>();
  private String pendingKey;
  private int pendingLength = -1;

  /**
   * @param query a segment query, or null or blank for every profile
   * @param cursor null for the first page
   */
  public DumpRequest(String query, int limit, String cursor) {
    if (limit <= 0) {
      throw new IllegalArgumentException("a page limit is positive, got " + limit);
    }
    this.query =
        query == null || query.isBlank() ? new byte[0] : query.getBytes(StandardCharsets.UTF_8);
    this.limit = limit;
    this.cursor = cursor == null ? null : Keys.cursor(cursor);
  }

  @Override
  public String command() {
    return "segdump";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, Encode.LOCAL);
    Encode.word(out, "segdump ");
    Encode.number(out, query.length);
    out.writeByte(Encode.SPACE);
    Encode.number(out, limit);
    if (cursor != null) {
      out.writeByte(Encode.SPACE);
      out.writeBytes(cursor);
    }
    Encode.crlf(out);
    Encode.block(out, query);
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (true) {
      if (pendingLength >= 0) {
        byte[] json = Lines.readBlock(in, pendingLength);
        if (json == null) {
          return false;
        }
        profiles.add(new DumpedProfile(pendingKey, json));
        pendingLength = -1;
        continue;
      }
      if (Lines.consume(in, END)) {
        return succeed(new DumpPage(List.copyOf(profiles), null));
      }
      String line = Lines.readLine(in);
      if (line == null) {
        return false;
      }
      if (line.startsWith("PROFILE ")) {
        int keyEnd = line.indexOf(' ', 8);
        if (keyEnd <= 8 || line.indexOf(' ', keyEnd + 1) >= 0) {
          throw unexpected(line);
        }
        pendingKey = Keys.unescape(line.substring(8, keyEnd));
        pendingLength = Lines.blockLength(line.substring(keyEnd + 1), line);
      } else if (line.startsWith("NEXT ") && line.length() > 5 && line.indexOf(' ', 5) < 0) {
        return succeed(new DumpPage(List.copyOf(profiles), line.substring(5)));
      } else if (profiles.isEmpty()) {
        return errorOrCorrupt(line);
      } else {
        throw unexpected(line);
      }
    }
  }
}
