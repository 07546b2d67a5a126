package dev.whack.node.protocol.binary;

import static dev.whack.node.protocol.binary.Opcodes.STATUS_INVALID_ARGUMENTS;
import static dev.whack.node.protocol.binary.Opcodes.STATUS_KEY_NOT_FOUND;
import static dev.whack.node.protocol.binary.Opcodes.STATUS_OK;
import static dev.whack.node.protocol.binary.Opcodes.STATUS_TEMPORARY_FAILURE;
import static dev.whack.node.protocol.binary.Opcodes.STATUS_TOO_LARGE;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.cluster.ClusterException;
import dev.whack.node.cluster.ClusterSegments;
import dev.whack.node.cluster.ClusterSegments.Listing;
import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.MembersPage;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.SegmentDryRun;
import dev.whack.node.engine.SegmentInfo;
import dev.whack.node.engine.SegmentMembership;
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
import dev.whack.node.protocol.WritesThroughLog;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The profile and segment opcodes of the binary protocol, in the range memcached leaves unused
 * (docs/protocol.md, "Binary opcodes"): Update(Q), SegDefine (and its dry run), SegDrop, SegList,
 * SegCount, SegMembers, SegOf, FilterCount, FilterMembers. Multi-answer opcodes send one response
 * per element and end with an empty one, as Stat does (a dry run ends with its count instead).
 *
 * <p>On a clustered node the segment questions are answered for the whole cluster by {@link
 * ClusterSegments}, as the text commands are: the connection holds its later requests until the
 * members have answered, so responses stay in request order and the event loop never waits. (Update
 * and SegOf are keyed: {@link BinaryCommands} forwards them to the key's owner.)
 *
 * <p>Concurrency: one per connection, on its event loop.
 */
final class SegmentOpcodes {
  static final int UPDATE = 0x60;
  static final int UPDATEQ = 0x61;
  static final int SEG_DEFINE = 0x62;
  static final int SEG_DROP = 0x63;

  /** SegDrop's value that drops the segments reading the segment with it ({@code in_segment}). */
  private static final byte[] FORCE = "force".getBytes(StandardCharsets.US_ASCII);

  /** SegOf's value that asks for each membership's entered time with it. */
  private static final byte[] SINCE = "since".getBytes(StandardCharsets.US_ASCII);

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
  private final Cluster cluster;

  /** Non-null when the node is clustered: segment questions are answered for the cluster. */
  private final ClusterSegments clusterSegments;

  private ChannelHandlerContext ctx;
  private WatchSession watch;

  // The multi-answer reply being written in pieces (SegMembers, FilterMembers, SegList): its
  // elements, where the next one is, and the request's opcode and opaque (the request object is
  // reused by the next request).
  private List<?> listing;
  private int listingNext;
  private String listingCursor;
  private int listingOpcode;
  private int listingOpaque;

  /** A dry run's count, written as the listing's closing response; -1 for other listings. */
  private long listingCount = -1;

  private final ProtocolDecoder.Continuation listingRest = this::continueListing;

  SegmentOpcodes(
      BinaryCommands out,
      KeyspaceSession keys,
      ProfileEngine engine,
      NodeStats stats,
      Watchers watchers,
      Cluster cluster) {
    this.out = out;
    this.cluster = cluster;
    this.clusterSegments =
        cluster.isClustered() ? new ClusterSegments(cluster, engine, keys) : null;
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
      // Extras of 4 bytes (the sample) make SegDefine a dry run.
      case SEG_DEFINE -> (ext == 0 || ext == 4) && key > 0 && body > ext + key;
      case SEG_DROP -> ext == 0 && key > 0 && (body == key || body == key + FORCE.length);
      case SEG_OF -> ext == 0 && key > 0 && (body == key || body == key + SINCE.length);
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
    this.ctx = ctx;
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
    if (r.opcode == SEG_DROP && badDropValue(r)
        || r.opcode == SEG_OF
            && r.value != null
            && r.value.length > 0
            && !Arrays.equals(r.value, SINCE)) {
      out.error(r, STATUS_INVALID_ARGUMENTS);
      return true;
    }
    if (clusterSegments != null && askCluster(r, framing)) {
      return true;
    }
    try {
      switch (r.opcode) {
        case UPDATE, UPDATEQ -> update(r, framing);
        case SEG_DEFINE -> {
          if (isDryRun(r)) {
            dryRun(r.opcode, r.opaque, engine.dryRun(key(r), value(r), r.limit), framing);
          } else {
            SegmentInfo info = engine.define(key(r), value(r));
            respondLong(r, info.size());
          }
        }
        case SEG_DROP -> {
          if (!engine.drop(key(r), force(r)).isEmpty()) {
            out.header(r.opcode, STATUS_OK, 0, 0, 0, r.opaque, 0);
          } else {
            out.error(r, STATUS_KEY_NOT_FOUND);
          }
        }
        case SEG_LIST ->
            list(
                r.opcode,
                r.opaque,
                engine.segments().stream().map(ClusterSegments.Segment::of).toList(),
                null,
                framing);
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
          if (r.value != null && r.value.length > 0) {
            // "since": value = the time the membership began, epoch millis, 8 bytes big-endian
            for (SegmentMembership m : keys.membershipsOf(r.key, 0, r.keyLength)) {
              byte[] name = m.segment().getBytes(UTF_8);
              out.header(r.opcode, STATUS_OK, name.length, 0, name.length + 8L, r.opaque, 0);
              out.replies().out().writeBytes(name).writeLong(m.enteredMillis());
            }
          } else {
            for (String name : keys.segmentsOf(r.key, 0, r.keyLength)) {
              respondKey(r.opcode, r.opaque, name.getBytes(UTF_8));
            }
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

  /**
   * Asks the cluster for a segment question's answer and writes it when the members have answered;
   * false for the opcodes this node answers itself.
   */
  private boolean askCluster(BinaryRequest r, BinaryCommands.Framing framing) {
    switch (r.opcode) {
      case SEG_DEFINE -> {
        if (isDryRun(r)) {
          answerLater(
              r,
              clusterSegments.dryRun(key(r), value(r), r.limit),
              (opcode, opaque, dryRun) -> dryRun(opcode, opaque, dryRun, framing),
              framing);
        } else {
          answerLater(r, clusterSegments.define(key(r), value(r)), this::respondLong, framing);
        }
      }
      case SEG_DROP ->
          answerLater(
              r,
              clusterSegments.drop(key(r), force(r)),
              (opcode, opaque, dropped) -> {
                if (dropped) {
                  out.header(opcode, STATUS_OK, 0, 0, 0, opaque, 0);
                } else {
                  out.error(opcode, opaque, STATUS_KEY_NOT_FOUND);
                }
              },
              framing);
      case SEG_LIST ->
          answerLater(
              r,
              clusterSegments.list(),
              (opcode, opaque, segments) -> list(opcode, opaque, segments, null, framing),
              framing);
      case SEG_COUNT ->
          answerLater(r, clusterSegments.count(false, value(r)), this::respondLong, framing);
      case FILTER_COUNT ->
          answerLater(r, clusterSegments.count(true, value(r)), this::respondLong, framing);
      case SEG_MEMBERS, FILTER_MEMBERS -> {
        Listing listing =
            r.opcode == SEG_MEMBERS ? Listing.SEGMENT_MEMBERS : Listing.FILTER_MEMBERS;
        answerLater(
            r,
            clusterSegments.page(listing, value(r), cursor(r), r.limit),
            (opcode, opaque, page) ->
                list(
                    opcode,
                    opaque,
                    page.keys(),
                    page.nextCursor() == null ? "" : page.nextCursor(),
                    framing),
            framing);
      }
      default -> {
        return false;
      }
    }
    return true;
  }

  /** Writes a cluster answer given its request's opcode and opaque. */
  private interface ClusterReply<T> {
    void write(int opcode, int opaque, T answer);
  }

  /**
   * Holds the connection's later requests until the answer is here, then writes it (or its error: a
   * refused question is status 0x04, a member that could not answer 0x86, with the reason) on the
   * event loop and carries on.
   */
  private <T> void answerLater(
      BinaryRequest r,
      CompletableFuture<T> answer,
      ClusterReply<T> reply,
      BinaryCommands.Framing framing) {
    int opcode = r.opcode;
    int opaque = r.opaque;
    framing.suspend();
    answer.whenComplete(
        (value, error) ->
            ctx.executor()
                .execute(
                    () -> {
                      if (ctx.isRemoved()) {
                        return; // the connection went away while the members answered
                      }
                      if (error == null) {
                        reply.write(opcode, opaque, value);
                      } else {
                        ClusterException e = ClusterException.of(error);
                        out.error(
                            opcode,
                            opaque,
                            e != null && e.refused()
                                ? STATUS_INVALID_ARGUMENTS
                                : STATUS_TEMPORARY_FAILURE,
                            e != null
                                ? e.getMessage()
                                : ProfileRejectedException.oneLine(error.getMessage()));
                      }
                      framing.resumeWith(null);
                    }));
  }

  /** Update: success with extras 1 (applied) or 0 (ignored as a replay). */
  private void update(BinaryRequest r, BinaryCommands.Framing framing) {
    // Extras, when present, are flags: the profile marker says the body is a protobuf Update.
    boolean protobuf = r.extrasLength == 4 && r.flags == Keyspace.PROTOBUF_PROFILE_FLAGS;
    dev.whack.node.cluster.UpdatesLog updatesLog = cluster.updatesLog();
    if (updatesLog != null && !Keyspace.isReserved(r.key, 0, r.keyLength)) {
      if (WritesThroughLog.ofUpdate(cluster, keys, r.key, 0, r.keyLength)) {
        stats.profileUpdates.increment();
        out.throughLog(
            r,
            protobuf
                ? KeyspaceSession.SourcedKind.UPDATE_PROTOBUF
                : KeyspaceSession.SourcedKind.UPDATE_JSON,
            updatesLog);
        return;
      }
      if (out.replies().answersToCome() > 0) {
        // Behind writes still going through the log (one may write this key): decided after them.
        framing.runWhenAnswered(() -> update(r, framing));
        return;
      }
    }
    stats.profileUpdates.increment();
    Status status;
    try {
      status = keys.update(r.key, 0, r.keyLength, r.value, 0, r.value.length, protobuf, outcome);
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

  /** SegDefine with the sample as its 4 bytes of extras: a dry run, defining nothing. */
  private static boolean isDryRun(BinaryRequest r) {
    return r.extrasLength == 4;
  }

  /**
   * A dry run: a response per sampled member (key = member), then one whose value is the count (8
   * bytes), as SegDefine's own response carries the size.
   */
  private void dryRun(
      int opcode, int opaque, SegmentDryRun dryRun, BinaryCommands.Framing framing) {
    listingCount = dryRun.count();
    list(opcode, opaque, dryRun.sample(), null, framing);
  }

  /** SegMembers, FilterMembers: a response per key, then one whose key is the next cursor. */
  private void page(BinaryRequest r, MembersPage page, BinaryCommands.Framing framing) {
    list(
        r.opcode,
        r.opaque,
        page.keys(),
        page.nextCursor() == null ? "" : page.nextCursor(),
        framing);
  }

  /**
   * A response per element (a key of a page, or a segment: extras its size, key its name, value its
   * expression), then the closing one (key: the page's next cursor, empty when none). A page may
   * hold 100,000 keys, so the responses are written in pieces as the client reads.
   *
   * @param cursor the page's next cursor; null for SegList, whose closing response is empty
   */
  private void list(
      int opcode, int opaque, List<?> elements, String cursor, BinaryCommands.Framing framing) {
    listing = elements;
    listingNext = 0;
    listingCursor = cursor;
    listingOpcode = opcode;
    listingOpaque = opaque;
    if (!continueListing()) {
      framing.continueLater(listingRest);
    }
  }

  /** The next responses of the listing; true when its closing response is written. */
  private boolean continueListing() {
    while (listingNext < listing.size()) {
      Object element = listing.get(listingNext++);
      if (element instanceof ClusterSegments.Segment s) {
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
    if (listingCount >= 0) {
      respondLong(listingOpcode, listingOpaque, listingCount);
      listingCount = -1;
    } else if (listingCursor == null) {
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
    respondLong(r.opcode, r.opaque, value);
  }

  private void respondLong(int opcode, int opaque, long value) {
    out.header(opcode, STATUS_OK, 0, 0, 8, opaque, 0);
    out.replies().out().writeLong(value);
  }

  /**
   * A change: opcode Watch with the watch's opaque, key = profile key, value = segment name, extras
   * = kind (1 enter, 0 leave) and time in ms; missed changes: status {@link #STATUS_MISSED}, value
   * = count; the end of the watch: status {@link #STATUS_WATCH_ENDED}, value = reason.
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

  /** Whether a SegDrop asks to drop the segments reading it too: its value is {@code force}. */
  private static boolean force(BinaryRequest r) {
    return r.value != null && r.value.length > 0;
  }

  /** A SegDrop whose value is neither empty nor {@code force}. */
  private static boolean badDropValue(BinaryRequest r) {
    return r.value != null && r.value.length > 0 && !Arrays.equals(r.value, FORCE);
  }

  private static String cursor(BinaryRequest r) {
    return r.keyLength == 0 ? null : key(r);
  }
}
