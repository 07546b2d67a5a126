package dev.whack.node.protocol.ascii;

import static dev.whack.node.protocol.ascii.AsciiCommands.ascii;

import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.ListedItem;
import dev.whack.node.observability.NodeStats;
import dev.whack.node.protocol.KeyText;
import dev.whack.node.protocol.ProtocolDecoder;
import dev.whack.node.protocol.ReplyBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code itemdump <limit> [<cursor>]} (docs/protocol.md, "Dumping opaque items"): a page of this
 * node's live opaque items with their values, {@code ITEM <key> <flags> <ttl>
 * <bytes>\r\n<data>\r\n} each, then {@code NEXT <cursor>} or {@code END}. Always this node's own
 * items, clustered or not: a dump pages every member itself, as it does with {@code local segdump}.
 * The page is read from the cache in one bounded walk and written in pieces as the client reads.
 *
 * <p>Concurrency: one per connection, on its event loop.
 */
final class ItemDumpCommand {
  static final byte[] NAME = ascii("itemdump");

  /** The largest page a client may ask for, as for the segment listings. */
  static final int MAX_LIMIT = 100_000;

  private static final byte[] USAGE = ascii("CLIENT_ERROR usage: itemdump <limit> [<cursor>]\r\n");
  private static final byte[] BAD_LIMIT = ascii("CLIENT_ERROR bad limit\r\n");
  private static final byte[] BAD_CURSOR = ascii("CLIENT_ERROR bad cursor\r\n");
  private static final byte[] ITEM = ascii("ITEM ");
  private static final byte[] CRLF = ascii("\r\n");
  private static final byte[] NEXT = ascii("NEXT ");
  private static final byte[] END = ascii("END\r\n");

  private final KeyspaceSession keys;
  private final NodeStats stats;
  private final AsciiNumbers numbers;
  private ReplyBuffer replies;

  // The page being written in pieces: its items, the next one to write, the cursor after it.
  private final List<ListedItem> page = new ArrayList<>();
  private int pageNext;
  private long pageCursor;
  private final ProtocolDecoder.Continuation rest = this::continuePage;

  ItemDumpCommand(KeyspaceSession keys, NodeStats stats, AsciiNumbers numbers) {
    this.keys = keys;
    this.stats = stats;
    this.numbers = numbers;
  }

  void attach(ReplyBuffer replies) {
    this.replies = replies;
  }

  void run(AsciiLine line, AsciiCommands.Framing framing) {
    if (line.moreTokens || line.tokenCount < 2 || line.tokenCount > 3) {
      error(USAGE);
      return;
    }
    if (!numbers.signed64(line.bytes, line.tokenStart[1], line.tokenEnd[1])
        || numbers.value < 1
        || numbers.value > MAX_LIMIT) {
      error(BAD_LIMIT);
      return;
    }
    int limit = (int) numbers.value;
    long cursor = 0;
    if (line.tokenCount == 3) {
      if (!numbers.unsigned64(line.bytes, line.tokenStart[2], line.tokenEnd[2])) {
        error(BAD_CURSOR);
        return;
      }
      cursor = numbers.value;
    }
    page.clear();
    try {
      pageCursor = keys.listItems(cursor, limit, page);
    } catch (IllegalArgumentException e) {
      page.clear();
      error(BAD_CURSOR);
      return;
    }
    pageNext = 0;
    if (!continuePage()) {
      framing.continueLater(rest);
    }
  }

  /** The next items of the page; true when its NEXT or END is written. */
  private boolean continuePage() {
    while (pageNext < page.size()) {
      ListedItem item = page.get(pageNext++);
      replies.bytes(ITEM);
      KeyText.append(replies.out(), item.key(), item.key().length);
      replies.ascii(' ').unsignedDecimal(Integer.toUnsignedLong(item.flags()));
      replies.ascii(' ').decimal(item.ttlSeconds());
      replies.ascii(' ').decimal(item.value().length).bytes(CRLF);
      replies.bytes(item.value()).bytes(CRLF);
      if (pageNext < page.size() && replies.endOfPiece()) {
        return false;
      }
    }
    page.clear(); // the values go with the page
    if (pageCursor == Keyspace.LISTING_DONE) {
      replies.bytes(END);
    } else {
      replies.bytes(NEXT).unsignedDecimal(pageCursor).bytes(CRLF);
    }
    return true;
  }

  private void error(byte[] reply) {
    stats.protocolErrors.increment();
    replies.bytes(reply);
  }
}
