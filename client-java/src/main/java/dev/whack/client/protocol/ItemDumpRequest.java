package dev.whack.client.protocol;

import dev.whack.client.DumpedItem;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code itemdump <limit> [<cursor>]}: {@code ITEM <key> <flags> <ttl> <bytes>\r\n<data>\r\n} per
 * opaque item of the node asked, then {@code NEXT <cursor>} if there may be more, else {@code END}.
 * A page may be empty and still have a cursor (the node walks a bounded part of its tables per
 * page).
 */
public final class ItemDumpRequest extends Request<ItemDumpPage> {
  private static final byte[] END = Lines.ascii("END\r\n");
  private final int limit;
  private final byte[] cursor;
  private final List<DumpedItem> items = new ArrayList<>();
  private byte[] pendingKey;
  private int pendingFlags;
  private long pendingTtl;
  private int pendingLength = -1;

  /**
   * @param limit items per page, 1 to 100000
   * @param cursor null for the first page
   */
  public ItemDumpRequest(int limit, String cursor) {
    if (limit < 1 || limit > 100_000) {
      throw new IllegalArgumentException("an item page holds 1 to 100000 items, got " + limit);
    }
    this.limit = limit;
    this.cursor = cursor == null ? null : Keys.cursor(cursor);
  }

  @Override
  public String command() {
    return "itemdump";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, Encode.LOCAL); // the node's own items, as every dump page is
    Encode.word(out, "itemdump ");
    Encode.number(out, limit);
    if (cursor != null) {
      out.writeByte(Encode.SPACE);
      out.writeBytes(cursor);
    }
    Encode.crlf(out);
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (true) {
      if (pendingLength >= 0) {
        byte[] value = Lines.readBlock(in, pendingLength);
        if (value == null) {
          return false;
        }
        items.add(new DumpedItem(pendingKey, value, pendingFlags, pendingTtl));
        pendingLength = -1;
        continue;
      }
      if (Lines.consume(in, END)) {
        return succeed(new ItemDumpPage(List.copyOf(items), null));
      }
      String line = Lines.readLine(in);
      if (line == null) {
        return false;
      }
      if (line.startsWith("ITEM ")) {
        String[] parts = line.split(" ", -1);
        if (parts.length != 5 || parts[1].isEmpty()) {
          throw unexpected(line);
        }
        pendingKey = Keys.unescapeBytes(parts[1]);
        pendingFlags = Lines.flags(parts[2], line);
        pendingTtl = Lines.nonNegativeLong(parts[3], line);
        pendingLength = Lines.blockLength(parts[4], line);
      } else if (line.startsWith("NEXT ") && line.length() > 5 && line.indexOf(' ', 5) < 0) {
        return succeed(new ItemDumpPage(List.copyOf(items), line.substring(5)));
      } else if (items.isEmpty()) {
        return errorOrCorrupt(line);
      } else {
        throw unexpected(line);
      }
    }
  }
}
