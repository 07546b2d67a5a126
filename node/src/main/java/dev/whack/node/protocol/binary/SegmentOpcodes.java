package dev.whack.node.protocol.binary;

import static dev.whack.node.protocol.binary.Opcodes.STATUS_INVALID_ARGUMENTS;
import static dev.whack.node.protocol.binary.Opcodes.STATUS_KEY_NOT_FOUND;
import static dev.whack.node.protocol.binary.Opcodes.STATUS_OK;
import static dev.whack.node.protocol.binary.Opcodes.STATUS_TOO_LARGE;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.MembersPage;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.SegmentInfo;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.keyspace.ProfileRejectedException;
import dev.whack.node.keyspace.Status;
import dev.whack.node.observability.NodeStats;
import dev.whack.node.observability.WatchSession;
import dev.whack.node.observability.Watchers;
import dev.whack.node.protocol.KeyText;
import dev.whack.node.protocol.ProtocolDecoder;
import dev.whack.node.protocol.ReplyBuffer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.List;

/**
 * The profile and segment opcodes of the binary protocol, in the range memcached leaves unused
 * (docs/protocol.md, "Binary opcodes"): Update(Q), SegDefine, SegDrop, SegList, SegCount,
 * SegMembers, SegOf, FilterCount, FilterMembers. Multi-answer opcodes send one response per
 * element and end with an empty one, as Stat does.
 *
 * <p>Concurrency: one per connection, on its event loop.
 */
final class SegmentOpcodes {
  static final int UPDATE = 0x60;
  static final int UPDATEQ = 0x61;
  static final int SEG_DEFINE = 0x62;
  static final int SEG_DROP = 0x63;
  static final int SEG_LIST = 0x64;
  static final int SEG_COUNT = 0x65;
  static final int SEG_MEMBERS = 0x66;
  static final int SEG_OF = 0x67;
  static final int FILTER_COUNT = 0x68;
  static final int FILTER_MEMBERS = 0x69;
  static final int WATCH = 0x6a;
  static final int UNWATCH = 0x6b;
  /**
   * Sent with a watch's opaque when changes were dropped; the value is the count. Outside the
   * statuses memcached uses.
   */
  static final int STATUS_MISSED = 0x00f0;

  /**
   * Sent with a watch's opaque when the node ends the watch (it stayed lapped too long); the value
   * is the reason, and the connection closes after it.
   */
  static final int STATUS_WATCH_ENDED = 0x00f1;

  /** Expressions are short; a longer value is refused without being buffered. */
  private static final int MAX_EXPRESSION_BYTES = 64 * 1024;

  private final BinaryCommands out;
  private final KeyspaceSession keys;
  private final ProfileEngine engine;
  private final NodeStats stats;
  private final Outcome outcome = new Outcome();
  private final Watchers watchers;
  private WatchSession watch;

  // The multi-answer reply being written in pieces (SegMembers, FilterMembers, SegList): its
  // elements, where the next one is, and the request's opcode and opaque (the request object is
  // reused by the next request).
  private List<?> listing;
  private int listingNext;
  private String listingCursor;
  private int listingOpcode;
  private int listingOpaque;
  private final ProtocolDecoder.Continuation listingRest = this::continueListing;

  SegmentOpcodes(
      BinaryCommands out,
      KeyspaceSession keys,
      ProfileEngine engine,
      NodeStats stats,
      Watchers watchers) {
    this.out = out;
    this.watchers = watchers;
    this.keys = keys;
    this.engine = engine;
    this.stats = stats;
  }

  static boolean handles(int opcode) {
    return opcode >= UPDATE && opcode <= UNWATCH;
  }

  /** memcached-style shape rule per opcode: which of extras, key and value it takes. */
  static boolean shapeFits(BinaryRequest r) {
    int ext = r.extrasLength;
    int key = r.keyLength;
    long body = r.bodyLength;
    return switch (r.opcode) {
      case UPDATE, UPDATEQ -> (ext == 0 || ext == 4) && key > 0 && body > ext + key;
      case SEG_DEFINE -> ext == 0 && key > 0 && body > key;
      case SEG_DROP, SEG_OF -> ext == 0 && key > 0 && body == key;
      case SEG_LIST -> ext == 0 && key == 0 && body == 0;
      case SEG_COUNT, FILTER_COUNT -> ext == 0 && key == 0 && body > 0;
      case SEG_MEMBERS, FILTER_MEMBERS -> ext == 4 && body > ext + key;
      case WATCH -> ext == 0 && key == 0 && body > 0;
      case UNWATCH -> ext == 0 && key == 0 && body == 0;
      default -> false;
    };
  }

  static long maxValueBytes(int opcode, int maxItemSize) {
    return opcode == UPDATE || opcode == UPDATEQ ? maxItemSize : MAX_EXPRESSION_BYTES;
  }

  void attach(ChannelHandlerContext ctx, ReplyBuffer replies) {
    watch = new WatchSession(engine, stats, watchers, ctx, replies);
  }

  void onWritable() {
    watch.resume();
  }

  boolean watching() {
    return watch.active();
  }

  /** End of input ends a watch as Unwatch does, without its response. */
  void inputEnded() {
    watch.stop();
  }

  void close() {
    watch.close();
  }

  /** Runs the opcode; false if it is not one of ours. */
  boolean execute(BinaryRequest r, BinaryCommands.Framing framing) {
    if (!handles(r.opcode)) {
      return false;
    }
    try {
      switch (r.opcode) {
        case UPDATE, UPDATEQ -> update(r);
        case SEG_DEFINE -> {
          SegmentInfo info = engine.define(key(r), value(r));
          respondLong(r, info.size());
        }
        case SEG_DROP -> {
          if (engine.drop(key(r))) {
            out.header(r.opcode, STATUS_OK, 0, 0, 0, r.opaque, 0);
          } else {
            out.error(r, STATUS_KEY_NOT_FOUND);
          }
        }
        case SEG_LIST -> list(r, engine.segments(), null, framing);
        case SEG_COUNT -> respondLong(r, engine.count(value(r)));
        case FILTER_COUNT -> respondLong(r, engine.filterCount(value(r)));
        case SEG_MEMBERS -> page(r, engine.members(value(r), cursor(r), r.limit), framing);
        case FILTER_MEMBERS -> page(r, engine.filterMembers(value(r), cursor(r), r.limit), framing);
        case WATCH -> {
          List<String> names = List.of(value(r).trim().split(" +"));
          String unknown = watch.unknownSegment(names);
          if (unknown != null) {
            out.error(r, STATUS_INVALID_ARGUMENTS, "unknown segment " + unknown);
          } else {
            // Changes follow in a later event-loop task, after this reply.
            watch.start(names, new BinaryFormat(r.opaque));
            out.header(r.opcode, STATUS_OK, 0, 0, 0, r.opaque, 0);
          }
        }
        case UNWATCH -> {
          watch.stop();
          out.header(r.opcode, STATUS_OK, 0, 0, 0, r.opaque, 0);
        }
        case SEG_OF -> {
          for (String name : keys.segmentsOf(r.key, 0, r.keyLength)) {
            respondKey(r.opcode, r.opaque, name.getBytes(UTF_8));
          }
          out.header(r.opcode, STATUS_OK, 0, 0, 0, r.opaque, 0);
        }
        default -> {
          return false;
        }
      }
    } catch (EngineException | IllegalArgumentException e) {
      out.error(r, STATUS_INVALID_ARGUMENTS, ProfileRejectedException.oneLine(e.getMessage()));
    }
    return true;
  }

  /** Update: success with extras 1 (applied) or 0 (ignored as a replay). */
  private void update(BinaryRequest r) {
    stats.profileUpdates.increment();
    Status status;
    try {
      // Extras, when present, are flags: the profile marker says the body is a protobuf Update.
      boolean protobuf = r.extrasLength == 4 && r.flags == Keyspace.PROTOBUF_PROFILE_FLAGS;
      status =
          keys.update(r.key, 0, r.keyLength, r.value, 0, r.value.length, protobuf, outcome);
    } catch (ProfileRejectedException e) {
      out.error(r, STATUS_INVALID_ARGUMENTS, e.getMessage());
      return;
    }
    switch (status) {
      case STORED, IGNORED -> {
        if (status == Status.IGNORED) {
          stats.profileUpdatesIgnored.increment();
        }
        if (r.opcode == UPDATE) {
          out.header(r.opcode, STATUS_OK, 0, 4, 4, r.opaque, outcome.cas);
          out.replies().out().writeInt(status == Status.STORED ? 1 : 0);
        }
      }
      case TOO_LARGE -> {
        stats.storeTooLarge.increment();
        out.error(r, STATUS_TOO_LARGE);
      }
      case RESERVED -> out.error(r, STATUS_INVALID_ARGUMENTS, "reserved key");
      default -> out.error(r, STATUS_INVALID_ARGUMENTS, "not a profile");
    }
  }

  /** SegMembers, FilterMembers: a response per key, then one whose key is the next cursor. */
  private void page(BinaryRequest r, MembersPage page, BinaryCommands.Framing framing) {
    list(r, page.keys(), page.nextCursor() == null ? "" : page.nextCursor(), framing);
  }

  /**
   * A response per element (a key of a page, or a segment: extras its size, key its name, value
   * its expression), then the closing one (key: the page's next cursor, empty when none). A page
   * may hold 100,000 keys, so the responses are written in pieces as the client reads.
   *
   * @param cursor the page's next cursor; null for SegList, whose closing response is empty
   */
  private void list(
      BinaryRequest r, List<?> elements, String cursor, BinaryCommands.Framing framing) {
    listing = elements;
    listingNext = 0;
    listingCursor = cursor;
    listingOpcode = r.opcode;
    listingOpaque = r.opaque;
    if (!continueListing()) {
      framing.continueLater(listingRest);
    }
  }

  /** The next responses of the listing; true when its closing response is written. */
  private boolean continueListing() {
    while (listingNext < listing.size()) {
      Object element = listing.get(listingNext++);
      if (element instanceof SegmentInfo s) {
        byte[] name = s.name().getBytes(UTF_8);
        byte[] expression = s.expression().getBytes(UTF_8);
        out.header(
            listingOpcode,
            STATUS_OK,
            name.length,
            8,
            8L + name.length + expression.length,
            listingOpaque,
            0);
        ByteBuf buf = out.replies().out();
        buf.writeLong(s.size());
        buf.writeBytes(name).writeBytes(expression);
      } else {
        respondKey(listingOpcode, listingOpaque, KeyText.bytes((String) element));
      }
      if (listingNext < listing.size() && out.replies().endOfPiece()) {
        return false;
      }
    }
    if (listingCursor == null) {
      out.header(listingOpcode, STATUS_OK, 0, 0, 0, listingOpaque, 0);
    } else {
      respondKey(listingOpcode, listingOpaque, listingCursor.getBytes(UTF_8));
    }
    listing = null;
    return true;
  }

  private void respondKey(int opcode, int opaque, byte[] key) {
    out.header(opcode, STATUS_OK, key.length, 0, key.length, opaque, 0);
    out.replies().out().writeBytes(key);
  }

  private void respondLong(BinaryRequest r, long value) {
    out.header(r.opcode, STATUS_OK, 0, 0, 8, r.opaque, 0);
    out.replies().out().writeLong(value);
  }

  /**
   * A change: opcode Watch with the watch's opaque, key = profile key, value = segment name,
   * extras = kind (1 enter, 0 leave) and time in ms; missed changes: status {@link #STATUS_MISSED},
   * value = count; the end of the watch: status {@link #STATUS_WATCH_ENDED}, value = reason.
   */
  private record BinaryFormat(int opaque) implements WatchSession.Format {
    @Override
    public void change(
        ByteBuf buf, byte[] segment, byte[] key, int keyLength, boolean enter, long timeMillis) {
      BinaryCommands.writeHeader(
          buf, WATCH, STATUS_OK, keyLength, 9, 9L + keyLength + segment.length, opaque, 0);
      buf.writeByte(enter ? 1 : 0).writeLong(timeMillis);
      buf.writeBytes(key, 0, keyLength).writeBytes(segment);
    }

    @Override
    public void missed(ByteBuf buf, long count) {
      BinaryCommands.writeHeader(buf, WATCH, STATUS_MISSED, 0, 0, 8, opaque, 0);
      buf.writeLong(count);
    }

    @Override
    public void ended(ByteBuf buf, String reason) {
      byte[] text = reason.getBytes(UTF_8);
      BinaryCommands.writeHeader(buf, WATCH, STATUS_WATCH_ENDED, 0, 0, text.length, opaque, 0);
      buf.writeBytes(text);
    }
  }

  private static String key(BinaryRequest r) {
    return new String(r.key, 0, r.keyLength, UTF_8);
  }

  private static String value(BinaryRequest r) {
    return new String(r.value, UTF_8);
  }

  private static String cursor(BinaryRequest r) {
    return r.keyLength == 0 ? null : key(r);
  }
}
