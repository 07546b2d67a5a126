package dev.whack.node.protocol.ascii;

import static dev.whack.node.protocol.ascii.AsciiCommands.KEY_MAX_LENGTH;
import static dev.whack.node.protocol.ascii.AsciiCommands.ascii;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.cluster.ClusterDimensions;
import dev.whack.node.cluster.ClusterSegments;
import dev.whack.node.cluster.ClusterSegments.Listing;
import dev.whack.node.cluster.UpdatesLog;
import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.MembersPage;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.SegmentDryRun;
import dev.whack.node.engine.SegmentInfo;
import dev.whack.node.engine.SegmentMembership;
import dev.whack.node.engine.dimension.DistinctUnion;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.keyspace.ProfileRejectedException;
import dev.whack.node.keyspace.Status;
import dev.whack.node.observability.NodeMetrics;
import dev.whack.node.observability.NodeStats;
import dev.whack.node.observability.WatchSession;
import dev.whack.node.observability.Watchers;
import dev.whack.node.protocol.KeyText;
import dev.whack.node.protocol.ReplyBuffer;
import dev.whack.node.protocol.WritesThroughLog;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayList;
import java.util.List;

/**
 * The profile and segment commands of the text protocol (docs/protocol.md, "Profiles and
 * segments"): {@code update}, {@code segdef} (and its dry run), {@code segdrop}, {@code seglist},
 * {@code segcount}, {@code segmembers}, {@code segof}, {@code filtercount}, {@code filtermembers},
 * {@code watch}, {@code unwatch}; and the preference dimensions' definitions, {@code dimdef},
 * {@code dimdrop}, {@code dimlist}, which are framed and answered as {@code segdef}, {@code
 * segdrop} and {@code seglist} are. Expressions and bodies travel as data blocks framed like
 * memcached's.
 *
 * <p>Watching is a {@link WatchSession}: {@code CHANGE} lines (and {@code MISSED <n>} after an
 * overflow) are written between replies, never waiting on a slow client.
 *
 * <p>Concurrency: one per connection; everything but the listener runs on the event loop.
 */
final class ProfileCommands {
  /** Expressions are short; a longer block is refused without being buffered. */
  static final int MAX_EXPRESSION_BYTES = 64 * 1024;

  private static final byte[] UPDATED = ascii("UPDATED\r\n");
  private static final byte[] IGNORED = ascii("IGNORED\r\n");
  private static final byte[] DROPPED = ascii("DROPPED\r\n");
  private static final byte[] NOT_FOUND = ascii("NOT_FOUND\r\n");
  private static final byte[] END = ascii("END\r\n");
  private static final byte[] CRLF = ascii("\r\n");
  private static final byte[] UNWATCHED = ascii("UNWATCHED\r\n");
  private static final byte[] NOT_A_PROFILE = ascii("CLIENT_ERROR not a profile\r\n");
  private static final byte[] EXPRESSION_TOO_LONG = ascii("CLIENT_ERROR expression too long\r\n");
  private static final byte[] DEFINITION_TOO_LONG = ascii("CLIENT_ERROR definition too long\r\n");
  private static final byte[] DEFINED = ascii("DEFINED\r\n");
  private static final byte[] BAD_LIMIT = ascii("CLIENT_ERROR bad limit\r\n");
  private static final byte[] BAD_SAMPLE = ascii("CLIENT_ERROR bad sample\r\n");
  private static final byte[] DRYRUN = ascii("dryrun");
  private static final byte[] PROTO = ascii("proto");
  private static final byte[] PARTIAL = ascii("partial");
  private static final byte[] UNION = ascii("union");
  private static final byte[] BAD_WINDOW = ascii("CLIENT_ERROR bad window\r\n");

  /** What the pending data block is for. */
  private enum Pending {
    UPDATE,
    SOURCED,
    DEFINE,
    DIMENSION_DEFINE,
    DRY_RUN,
    SEGMENT_COUNT,
    SEGMENT_MEMBERS,
    FILTER_COUNT,
    FILTER_MEMBERS,
    DUMP,
    SEGMENT_DISTINCT
  }

  private final KeyspaceSession keys;
  private final ProfileEngine engine;
  private final NodeStats stats;
  private final NodeMetrics metrics;
  private final Watchers watchers;
  private final AsciiNumbers numbers;
  private final Outcome outcome;
  private ReplyBuffer replies;
  private ChannelHandlerContext ctx;

  private Pending pending;
  private boolean pendingNoreply;
  private boolean pendingProtobuf;

  /** The pending count asked for a partial answer ({@code segcount <bytes> partial}). */
  private boolean pendingPartial;

  private long pendingSeq;
  private KeyspaceSession.SourcedKind pendingKind;

  /** The page size of a pending members command, or the sample of a pending dry run. */
  private int pendingLimit;

  private String pendingCursor;

  // segdistinct: the name counted, the window (0: the retention), and whether the union itself is
  // asked for (a member's part of a cluster-wide answer)
  private String pendingDistinctName;
  private int pendingWindowDays;
  private boolean pendingUnion;

  // The page being written in pieces (segmembers, filtermembers, segdump): its keys and where
  // the next one is.
  private MembersPage pagePending;
  private int pageNext;
  private boolean pageIsDump;
  private final dev.whack.node.protocol.ProtocolDecoder.Continuation pageRest = this::continuePage;

  private WatchSession watch;

  /** Non-null when the node is clustered: segment questions are answered for the cluster. */
  private final ClusterSegments clusterSegments;

  /** Non-null when the node is clustered: dimension definitions go to every member. */
  private final ClusterDimensions clusterDimensions;

  private final Cluster cluster;

  /** The current command said {@code local}: this node only. */
  private boolean local;

  ProfileCommands(
      KeyspaceSession keys,
      ProfileEngine engine,
      NodeStats stats,
      NodeMetrics metrics,
      Watchers watchers,
      Cluster cluster,
      AsciiNumbers numbers,
      Outcome outcome) {
    this.cluster = cluster;
    this.clusterSegments =
        cluster.isClustered() ? new ClusterSegments(cluster, engine, keys) : null;
    this.clusterDimensions = cluster.isClustered() ? new ClusterDimensions(cluster, engine) : null;
    this.watchers = watchers;
    this.keys = keys;
    this.engine = engine;
    this.stats = stats;
    this.metrics = metrics;
    this.numbers = numbers;
    this.outcome = outcome;
  }

  void attach(ChannelHandlerContext ctx, ReplyBuffer replies) {
    this.ctx = ctx;
    this.replies = replies;
    this.watch = new WatchSession(engine, stats, watchers, ctx, replies);
  }

  /**
   * Runs the command if it is one of ours.
   *
   * @return false if the line is not a profile or segment command
   */
  boolean onLine(
      AsciiLine line, AsciiCommands.Framing framing, long maxBodyBytes, boolean localOnly) {
    String name = commandName(line);
    if (name == null) {
      return false;
    }
    local = localOnly || clusterSegments == null;
    switch (name) {
      case "update" -> blockCommand(line, framing, Pending.UPDATE, 2, true, maxBodyBytes);
      case "sourced" -> sourcedCommand(line, framing, maxBodyBytes);
      case "segdef" -> {
        if (line.tokenCount > 3 && line.tokenEquals(3, DRYRUN)) {
          dryRunCommand(line, framing);
        } else {
          blockCommand(line, framing, Pending.DEFINE, 2, true, MAX_EXPRESSION_BYTES);
        }
      }
      case "segcount" ->
          blockCommand(line, framing, Pending.SEGMENT_COUNT, 1, false, MAX_EXPRESSION_BYTES);
      case "segmembers" ->
          blockCommand(line, framing, Pending.SEGMENT_MEMBERS, 1, false, MAX_EXPRESSION_BYTES);
      case "filtercount" ->
          blockCommand(line, framing, Pending.FILTER_COUNT, 1, false, MAX_EXPRESSION_BYTES);
      case "filtermembers" ->
          blockCommand(line, framing, Pending.FILTER_MEMBERS, 1, false, MAX_EXPRESSION_BYTES);
      case "segdump" -> blockCommand(line, framing, Pending.DUMP, 1, false, MAX_EXPRESSION_BYTES);
      case "segdistinct" -> distinctCommand(line, framing);
      case "segdrop" -> segdrop(line, framing);
      case "seglist" -> seglist(line, framing);
      case "segof" -> segof(line);
      case "dimdef" ->
          blockCommand(line, framing, Pending.DIMENSION_DEFINE, 2, true, MAX_EXPRESSION_BYTES);
      case "dimdrop" -> dimdrop(line, framing);
      case "dimlist" -> dimlist(line, framing);
      case "watch" -> watch(line);
      case "unwatch" -> unwatch(line);
      default -> {
        return false;
      }
    }
    return true;
  }

  boolean awaitingData() {
    return pending != null;
  }

  /** The pending block went to another node instead. */
  void cancelPending() {
    pending = null;
  }

  private static final String[] NAMES = {
    "update",
    "sourced",
    "segdef",
    "segdrop",
    "seglist",
    "segcount",
    "segmembers",
    "segof",
    "filtercount",
    "filtermembers",
    "segdump",
    "segdistinct",
    "watch",
    "unwatch",
    "dimdef",
    "dimdrop",
    "dimlist"
  };

  private static String commandName(AsciiLine line) {
    for (String name : NAMES) {
      if (line.tokenEquals(0, ascii(name))) {
        return name;
      }
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // Commands with a data block

  /**
   * "update <key> <bytes> [proto] [noreply]", "segdef <name> <bytes> [noreply]", "dimdef <name>
   * <bytes> [noreply]", "segcount <bytes>", "segmembers <bytes> <limit> [<cursor>]", and the filter
   * forms.
   *
   * @param bytesToken the index of the token holding the block length
   */
  private void blockCommand(
      AsciiLine line,
      AsciiCommands.Framing framing,
      Pending kind,
      int bytesToken,
      boolean allowsNoreply,
      long maxBytes) {
    boolean members =
        kind == Pending.SEGMENT_MEMBERS || kind == Pending.FILTER_MEMBERS || kind == Pending.DUMP;
    int required = bytesToken + 1 + (members ? 1 : 0);
    // update's body format is named, never guessed: a protobuf may begin with "\n{".
    pendingProtobuf =
        kind == Pending.UPDATE && line.tokenCount > required && line.tokenEquals(required, PROTO);
    boolean counts = kind == Pending.SEGMENT_COUNT || kind == Pending.FILTER_COUNT;
    // A count may ask for a partial answer: the parts that answered, and which did not.
    pendingPartial =
        counts && line.tokenCount == required + 1 && line.tokenEquals(required, PARTIAL);
    int optional =
        members ? 1 : (allowsNoreply ? 1 : 0) + (pendingProtobuf || pendingPartial ? 1 : 0);
    if (line.moreTokens || line.tokenCount < required || line.tokenCount > required + optional) {
      error(AsciiCommands.ERROR);
      return;
    }
    boolean noreply = allowsNoreply && AsciiCommands.isNoreply(line);
    int extra =
        line.tokenCount
            - required
            - (pendingProtobuf || pendingPartial ? 1 : 0)
            - (noreply ? 1 : 0);
    if (!members && extra != 0) {
      error(AsciiCommands.ERROR);
      return;
    }
    if (bytesToken == 2 && line.tokenLength(1) > KEY_MAX_LENGTH) {
      clientError(noreply, AsciiCommands.BAD_FORMAT);
      return;
    }
    if (!numbers.signed32(line.bytes, line.tokenStart[bytesToken], line.tokenEnd[bytesToken])
        || numbers.value < 0) {
      clientError(noreply, AsciiCommands.BAD_FORMAT);
      return;
    }
    long length = numbers.value;
    if (members) {
      if (!numbers.signed32(
              line.bytes, line.tokenStart[bytesToken + 1], line.tokenEnd[bytesToken + 1])
          || numbers.value < 1
          || numbers.value > 100_000) {
        error(BAD_LIMIT);
        framing.swallow(length + 2);
        return;
      }
      pendingLimit = (int) numbers.value;
      pendingCursor = line.tokenCount > required ? line.token(required) : null;
    }
    if (length > maxBytes) {
      clientError(
          noreply,
          switch (kind) {
            case UPDATE -> AsciiCommands.TOO_LARGE;
            case DIMENSION_DEFINE -> DEFINITION_TOO_LONG;
            default -> EXPRESSION_TOO_LONG;
          });
      framing.swallow(length + 2);
      return;
    }
    pending = kind;
    pendingNoreply = noreply;
    framing.expectData((int) length);
  }

  /**
   * "segdef <name> <bytes> dryrun [<sample>]": what defining the segment would give now (a count
   * and up to {@code <sample>} member keys, 10 when not given, at most 1000), defining nothing
   * (docs/protocol.md, "Segments"). No noreply: a dry run is asked for its answer.
   */
  private void dryRunCommand(AsciiLine line, AsciiCommands.Framing framing) {
    if (line.moreTokens || line.tokenCount > 5) {
      error(AsciiCommands.ERROR);
      return;
    }
    if (line.tokenLength(1) > KEY_MAX_LENGTH
        || !numbers.signed32(line.bytes, line.tokenStart[2], line.tokenEnd[2])
        || numbers.value < 0) {
      error(AsciiCommands.BAD_FORMAT);
      return;
    }
    long length = numbers.value;
    int sample = SegmentDryRun.DEFAULT_SAMPLE;
    if (line.tokenCount == 5) {
      if (!numbers.signed32(line.bytes, line.tokenStart[4], line.tokenEnd[4])
          || numbers.value < 0
          || numbers.value > SegmentDryRun.MAX_SAMPLE) {
        error(BAD_SAMPLE);
        framing.swallow(length + 2);
        return;
      }
      sample = (int) numbers.value;
    }
    if (length > MAX_EXPRESSION_BYTES) {
      error(EXPRESSION_TOO_LONG);
      framing.swallow(length + 2);
      return;
    }
    pending = Pending.DRY_RUN;
    pendingNoreply = false;
    pendingLimit = sample;
    framing.expectData((int) length);
  }

  /**
   * "segdistinct <bytes> <name> [<window>] [union]" and the query as a data block: the distinct
   * values of a distinct dimension (or an attribute) across the query's members (docs/protocol.md,
   * "Segments"). The window is days, as {@code 30} or {@code 30d}; without it, the retention.
   * {@code union} answers the mergeable union instead of its count: what members ask each other.
   */
  private void distinctCommand(AsciiLine line, AsciiCommands.Framing framing) {
    if (line.moreTokens || line.tokenCount < 3 || line.tokenCount > 5) {
      error(AsciiCommands.ERROR);
      return;
    }
    if (!numbers.signed32(line.bytes, line.tokenStart[1], line.tokenEnd[1]) || numbers.value < 0) {
      error(AsciiCommands.BAD_FORMAT);
      return;
    }
    long length = numbers.value;
    boolean union = line.tokenEquals(line.tokenCount - 1, UNION);
    int window = 0;
    if (line.tokenCount - (union ? 1 : 0) == 4) {
      String w = line.token(3);
      String digits = w.endsWith("d") ? w.substring(0, w.length() - 1) : w;
      try {
        window = Integer.parseInt(digits);
      } catch (NumberFormatException e) {
        window = -1;
      }
      if (window < 1 || !digits.chars().allMatch(Character::isDigit)) {
        error(BAD_WINDOW);
        framing.swallow(length + 2);
        return;
      }
    } else if (line.tokenCount - (union ? 1 : 0) != 3) {
      error(AsciiCommands.ERROR);
      return;
    }
    if (length > MAX_EXPRESSION_BYTES) {
      error(EXPRESSION_TOO_LONG);
      framing.swallow(length + 2);
      return;
    }
    pending = Pending.SEGMENT_DISTINCT;
    pendingNoreply = false;
    pendingDistinctName = line.token(2);
    pendingWindowDays = window;
    pendingUnion = union;
    framing.expectData((int) length);
  }

  /** "DISTINCT <n> exact" or "DISTINCT <n> approximate". */
  private static byte[] distinctLine(DistinctUnion u) {
    return ascii("DISTINCT " + u.value() + (u.exact() ? " exact" : " approximate") + "\r\n");
  }

  /** "UNION <base64>": the union itself, for the member merging a cluster-wide answer. */
  private static byte[] unionLine(DistinctUnion u) {
    return ascii("UNION " + java.util.Base64.getEncoder().encodeToString(u.encode()) + "\r\n");
  }

  /** The data block of the pending command has arrived. */
  void onData(AsciiLine line, byte[] data, boolean terminated, AsciiCommands.Framing framing) {
    Pending kind = pending;
    pending = null;
    if (!terminated) {
      clientError(pendingNoreply, AsciiCommands.BAD_DATA_CHUNK);
      return;
    }
    if (!local && kind == Pending.DIMENSION_DEFINE) {
      answerLater(
          clusterDimensions.define(line.token(1), data).thenApply(spec -> DEFINED),
          pendingNoreply,
          framing);
      return;
    }
    if (!local && kind != Pending.UPDATE && kind != Pending.SOURCED) {
      String expression = new String(data, UTF_8);
      answerLater(
          switch (kind) {
            case DEFINE ->
                clusterSegments
                    .define(line.token(1), expression)
                    .thenApply(size -> ascii("DEFINED " + size + "\r\n"));
            case DRY_RUN ->
                clusterSegments
                    .dryRun(line.token(1), expression, pendingLimit)
                    .thenApply(SegmentText::dryRun);
            case SEGMENT_COUNT, FILTER_COUNT ->
                pendingPartial
                    ? clusterSegments
                        .countPartial(kind == Pending.FILTER_COUNT, expression)
                        .thenApply(ProfileCommands::partialCountLines)
                    : clusterSegments
                        .count(kind == Pending.FILTER_COUNT, expression)
                        .thenApply(ProfileCommands::countLine);
            case SEGMENT_MEMBERS -> clusterPage(Listing.SEGMENT_MEMBERS, expression);
            case FILTER_MEMBERS -> clusterPage(Listing.FILTER_MEMBERS, expression);
            case SEGMENT_DISTINCT ->
                clusterSegments
                    .distinct(expression, pendingDistinctName, pendingWindowDays)
                    .thenApply(ProfileCommands::distinctLine);
            default -> clusterPage(Listing.DUMP, expression);
          },
          pendingNoreply,
          framing);
      return;
    }
    if (local
        && kind != Pending.UPDATE
        && kind != Pending.SOURCED
        && kind != Pending.DEFINE
        && kind != Pending.DIMENSION_DEFINE) {
      // Another member asks for this member's part of a cluster-wide answer: none while a slot
      // is still being taken over here, or the answer would miss its keys.
      String taking = cluster.takingOverBecause();
      if (taking != null) {
        clientError(pendingNoreply, ascii("SERVER_ERROR " + taking + "\r\n"));
        return;
      }
    }
    long start = System.nanoTime();
    try {
      switch (kind) {
        case UPDATE -> update(line, data, framing);
        case SOURCED -> sourced(line, data);
        case DEFINE -> define(line, new String(data, UTF_8));
        case DIMENSION_DEFINE -> {
          engine.defineDimension(line.token(1), data);
          if (!pendingNoreply) {
            replies.bytes(DEFINED);
          }
        }
        case DRY_RUN ->
            dryRun(engine.dryRun(line.token(1), new String(data, UTF_8), pendingLimit), framing);
        case SEGMENT_COUNT -> count(engine.count(new String(data, UTF_8)));
        case SEGMENT_DISTINCT -> {
          DistinctUnion u =
              engine.segmentDistinctUnion(
                  new String(data, UTF_8), pendingDistinctName, pendingWindowDays);
          replies.bytes(pendingUnion ? unionLine(u) : distinctLine(u));
        }
        case FILTER_COUNT -> count(engine.filterCount(new String(data, UTF_8)));
        case SEGMENT_MEMBERS ->
            page(
                engine.members(new String(data, UTF_8), pendingCursor, pendingLimit),
                false,
                framing);
        case FILTER_MEMBERS ->
            page(
                engine.filterMembers(new String(data, UTF_8), pendingCursor, pendingLimit),
                false,
                framing);
        case DUMP -> {
          String query = new String(data, UTF_8);
          page(
              engine.members(query.isBlank() ? null : query, pendingCursor, pendingLimit),
              true,
              framing);
        }
      }
    } catch (EngineException | IllegalArgumentException e) {
      clientError(
          pendingNoreply,
          ascii("CLIENT_ERROR " + ProfileRejectedException.oneLine(e.getMessage()) + "\r\n"));
    }
    if (kind == Pending.UPDATE || kind == Pending.SOURCED) {
      metrics.recordLatency(NodeMetrics.UPDATE, System.nanoTime() - start);
    } else {
      metrics.recordLatency(NodeMetrics.SEGMENT, System.nanoTime() - start);
    }
  }

  private void update(AsciiLine line, byte[] body, AsciiCommands.Framing framing) {
    UpdatesLog updatesLog = cluster.updatesLog();
    if (updatesLog != null
        && !Keyspace.isReserved(line.bytes, line.tokenStart[1], line.tokenLength(1))) {
      if (WritesThroughLog.ofUpdate(
          cluster, keys, line.bytes, line.tokenStart[1], line.tokenLength(1))) {
        updateThroughLog(line, body, updatesLog);
        return;
      }
      if (replies.answersToCome() > 0) {
        // Behind writes still going through the log (one may write this key): decided after them.
        boolean protobuf = pendingProtobuf;
        boolean noreply = pendingNoreply;
        framing.runWhenAnswered(
            () -> {
              pendingProtobuf = protobuf;
              pendingNoreply = noreply;
              update(line, body, framing);
            });
        return;
      }
    }
    stats.profileUpdates.increment();
    Status status;
    try {
      status =
          keys.update(
              line.bytes,
              line.tokenStart[1],
              line.tokenLength(1),
              body,
              0,
              body.length,
              pendingProtobuf,
              outcome);
    } catch (ProfileRejectedException e) {
      clientError(pendingNoreply, ascii("CLIENT_ERROR " + e.getMessage() + "\r\n"));
      return;
    }
    switch (status) {
      case STORED -> {
        if (!pendingNoreply) {
          replies.bytes(UPDATED);
        }
      }
      case IGNORED -> {
        stats.profileUpdatesIgnored.increment();
        if (!pendingNoreply) {
          replies.bytes(IGNORED);
        }
      }
      case TOO_LARGE -> {
        stats.storeTooLarge.increment();
        clientError(pendingNoreply, AsciiCommands.TOO_LARGE);
      }
      case RESERVED -> clientError(pendingNoreply, AsciiCommands.RESERVED_KEY);
      default -> clientError(pendingNoreply, NOT_A_PROFILE);
    }
  }

  /**
   * A managed member's update: it goes through the updates log and is answered once this member
   * applied it (docs/cluster.md, "Writes through the log").
   */
  private void updateThroughLog(AsciiLine line, byte[] body, UpdatesLog updatesLog) {
    stats.profileUpdates.increment();
    boolean noreply = pendingNoreply;
    replies.answerLater(
        updatesLog.append(
            line.bytes,
            line.tokenStart[1],
            line.tokenLength(1),
            pendingProtobuf
                ? KeyspaceSession.SourcedKind.UPDATE_PROTOBUF
                : KeyspaceSession.SourcedKind.UPDATE_JSON,
            body,
            0,
            0),
        (applied, failure) -> {
          if (failure == null && applied.status() == Status.IGNORED) {
            stats.profileUpdatesIgnored.increment();
          }
          if (!noreply) {
            replies.bytes(LoggedReplies.update(applied, failure));
          }
        });
  }

  /**
   * "sourced <key> <producer> <seq> <kind> <bytes> [noreply]": a record of an ordered source (a
   * Kafka partition), applied here whichever node owns the key, since the sender chose the owner
   * (docs/protocol.md, "Records from Kafka"). kind is update-json, update-protobuf, profile-json,
   * profile-protobuf or delete.
   */
  private void sourcedCommand(AsciiLine line, AsciiCommands.Framing framing, long maxBytes) {
    boolean noreply = line.tokenCount == 7 && AsciiCommands.isNoreply(line);
    if (line.moreTokens || line.tokenCount != (noreply ? 7 : 6)) {
      error(AsciiCommands.ERROR);
      return;
    }
    if (!numbers.signed32(line.bytes, line.tokenStart[5], line.tokenEnd[5]) || numbers.value < 0) {
      clientError(noreply, AsciiCommands.BAD_FORMAT);
      return;
    }
    long length = numbers.value;
    KeyspaceSession.SourcedKind kind = sourcedKind(line);
    boolean seqOk =
        numbers.signed64(line.bytes, line.tokenStart[3], line.tokenEnd[3]) && numbers.value >= 0;
    if (line.tokenLength(1) > KEY_MAX_LENGTH
        || kind == null
        || !seqOk
        || !printableProducer(line)) {
      clientError(noreply, AsciiCommands.BAD_FORMAT);
      framing.swallow(length + 2);
      return;
    }
    if (length > maxBytes) {
      clientError(noreply, AsciiCommands.TOO_LARGE);
      framing.swallow(length + 2);
      return;
    }
    pendingSeq = numbers.value;
    pendingKind = kind;
    pending = Pending.SOURCED;
    pendingNoreply = noreply;
    framing.expectData((int) length);
  }

  private static final String[] SOURCED_KINDS = {
    "update-json", "update-protobuf", "profile-json", "profile-protobuf", "delete"
  };

  private static KeyspaceSession.SourcedKind sourcedKind(AsciiLine line) {
    for (int i = 0; i < SOURCED_KINDS.length; i++) {
      if (line.tokenEquals(4, ascii(SOURCED_KINDS[i]))) {
        return KeyspaceSession.SourcedKind.values()[i];
      }
    }
    return null;
  }

  /** A producer name fits in Update JSON as it is: printable ASCII, no quote or backslash. */
  private static boolean printableProducer(AsciiLine line) {
    for (int i = line.tokenStart[2]; i < line.tokenEnd[2]; i++) {
      byte b = line.bytes[i];
      if (b <= ' ' || b >= 0x7F || b == '"' || b == '\\') {
        return false;
      }
    }
    return true;
  }

  private void sourced(AsciiLine line, byte[] body) {
    stats.profileUpdates.increment();
    Status status;
    try {
      status =
          keys.applySourced(
              line.bytes,
              line.tokenStart[1],
              line.tokenLength(1),
              java.util.Arrays.copyOfRange(line.bytes, line.tokenStart[2], line.tokenEnd[2]),
              pendingSeq,
              pendingKind,
              pendingKind == KeyspaceSession.SourcedKind.DELETE ? null : body,
              outcome);
    } catch (ProfileRejectedException e) {
      clientError(pendingNoreply, ascii("CLIENT_ERROR " + e.getMessage() + "\r\n"));
      return;
    }
    byte[] reply =
        switch (status) {
          case STORED -> AsciiCommands.STORED;
          case IGNORED -> IGNORED;
          case DELETED -> AsciiCommands.DELETED;
          case NOT_FOUND -> AsciiCommands.NOT_FOUND;
          case TOO_LARGE -> AsciiCommands.TOO_LARGE;
          case RESERVED -> AsciiCommands.RESERVED_KEY;
          default -> NOT_A_PROFILE;
        };
    if (status == Status.IGNORED) {
      stats.profileUpdatesIgnored.increment();
    }
    if (!pendingNoreply) {
      replies.bytes(reply);
    }
  }

  private void define(AsciiLine line, String expression) {
    SegmentInfo info = engine.define(line.token(1), expression);
    if (!pendingNoreply) {
      replies.bytes(ascii("DEFINED " + info.size() + "\r\n"));
    }
  }

  private void count(long n) {
    replies.bytes(countLine(n));
  }

  /** "COUNT <n>", then "KEY <key>" per sampled member and "END", as a page is written. */
  private void dryRun(SegmentDryRun dryRun, AsciiCommands.Framing framing) {
    count(dryRun.count());
    page(new MembersPage(dryRun.sample(), null), false, framing);
  }

  /**
   * A page of keys, "KEY <key>" each, or for "segdump <bytes> <limit> [<cursor>]" (query empty:
   * every profile) "PROFILE <key> <bytes>" + Profile JSON with its event series and producer marks
   * each; then NEXT or END. A page may hold 100,000 keys, so it is written in pieces as the client
   * reads.
   */
  private void page(MembersPage page, boolean dump, AsciiCommands.Framing framing) {
    pagePending = page;
    pageNext = 0;
    pageIsDump = dump;
    if (!continuePage()) {
      framing.continueLater(pageRest);
    }
  }

  /** The next keys of the page; true when its NEXT or END is written. */
  private boolean continuePage() {
    List<String> keys = pagePending.keys();
    while (pageNext < keys.size()) {
      String key = keys.get(pageNext++);
      if (pageIsDump) {
        byte[] keyBytes = KeyText.bytes(key);
        byte[] json = this.keys.profileJson(keyBytes, 0, keyBytes.length);
        if (json == null) {
          continue; // removed since the page was read
        }
        replies.bytes(PROFILE);
        KeyText.append(replies, key);
        replies.ascii(' ').decimal(json.length).bytes(CRLF);
        replies.bytes(json).bytes(CRLF);
      } else {
        replies.bytes(KEY);
        KeyText.append(replies, key);
        replies.bytes(CRLF);
      }
      if (pageNext < keys.size() && replies.endOfPiece()) {
        return false;
      }
    }
    String next = pagePending.nextCursor();
    pagePending = null;
    replies.bytes(next != null ? ascii("NEXT " + next + "\r\n") : END);
    return true;
  }

  private static final byte[] PROFILE = ascii("PROFILE ");
  private static final byte[] KEY = ascii("KEY ");

  // ---------------------------------------------------------------------------------------------
  // One-line commands

  /** Writes an answer the cluster gives later, holding the connection's next commands meanwhile. */
  private void answerLater(
      java.util.concurrent.CompletableFuture<byte[]> answer,
      boolean noreply,
      AsciiCommands.Framing framing) {
    framing.suspend();
    answer.whenComplete(
        (reply, error) ->
            ctx.executor()
                .execute(
                    () ->
                        framing.resumeWith(
                            noreply // as memcached, noreply hides even errors
                                ? null
                                : error != null ? SegmentText.error(error) : reply)));
  }

  private java.util.concurrent.CompletableFuture<byte[]> clusterPage(
      Listing listing, String expression) {
    return clusterSegments
        .page(listing, expression, pendingCursor, pendingLimit)
        .thenApply(SegmentText::page);
  }

  private static byte[] countLine(long n) {
    return ascii("COUNT " + n + "\r\n");
  }

  /** "MISSING <part> <reason>" per part that did not answer, then "COUNT <n>" of the rest. */
  private static byte[] partialCountLines(ClusterSegments.PartialCount partial) {
    StringBuilder out = new StringBuilder();
    partial
        .missing()
        .forEach(
            (part, why) ->
                out.append("MISSING ")
                    .append(part)
                    .append(' ')
                    .append(why.replace('\r', ' ').replace('\n', ' '))
                    .append("\r\n"));
    out.append("COUNT ").append(partial.count()).append("\r\n");
    return out.toString().getBytes(UTF_8);
  }

  /**
   * "segdrop <name> [force] [noreply]": with {@code force}, the segments that read it ({@code
   * in_segment}) are dropped with it rather than the drop refused.
   */
  private void segdrop(AsciiLine line, AsciiCommands.Framing framing) {
    if (line.moreTokens || line.tokenCount < 2 || line.tokenCount > 4) {
      error(AsciiCommands.ERROR);
      return;
    }
    boolean noreply = AsciiCommands.isNoreply(line);
    int options = line.tokenCount - 2 - (noreply ? 1 : 0);
    boolean force = options == 1 && line.token(2).equals("force");
    if (options > (force ? 1 : 0)) {
      error(AsciiCommands.ERROR);
      return;
    }
    if (!local) {
      answerDropped(clusterSegments.drop(line.token(1), force), noreply, framing);
      return;
    }
    replyDropped(noreply, () -> !engine.drop(line.token(1), force).isEmpty());
  }

  private void answerDropped(
      java.util.concurrent.CompletableFuture<Boolean> drop,
      boolean noreply,
      AsciiCommands.Framing framing) {
    answerLater(drop.thenApply(dropped -> dropped ? DROPPED : NOT_FOUND), noreply, framing);
  }

  /**
   * This node's drop: {@code DROPPED} or {@code NOT_FOUND}, or the engine's refusal as {@code
   * CLIENT_ERROR}.
   */
  private void replyDropped(boolean noreply, java.util.function.BooleanSupplier drop) {
    boolean dropped;
    try {
      dropped = drop.getAsBoolean();
    } catch (EngineException e) {
      String reason = ProfileRejectedException.oneLine(e.getMessage());
      clientError(noreply, ascii("CLIENT_ERROR " + reason + "\r\n"));
      return;
    }
    if (!noreply) {
      replies.bytes(dropped ? DROPPED : NOT_FOUND);
    }
  }

  /** "seglist": "SEGMENT <name> <size> <bytes>\r\n<expression>\r\n" each, then "END". */
  private void seglist(AsciiLine line, AsciiCommands.Framing framing) {
    if (line.tokenCount != 1) {
      error(AsciiCommands.ERROR);
      return;
    }
    if (!local) {
      answerLater(clusterSegments.list().thenApply(SegmentText::list), false, framing);
      return;
    }
    framing.writeReply(SegmentText.localList(engine));
  }

  /**
   * "dimdrop <name> [noreply]": {@code DROPPED} or {@code NOT_FOUND}; refused ({@code CLIENT_ERROR}
   * naming them) while segments read the dimension.
   */
  private void dimdrop(AsciiLine line, AsciiCommands.Framing framing) {
    boolean noreply = line.tokenCount == 3 && AsciiCommands.isNoreply(line);
    if (line.moreTokens || line.tokenCount != (noreply ? 3 : 2)) {
      error(AsciiCommands.ERROR);
      return;
    }
    if (!local) {
      answerDropped(clusterDimensions.drop(line.token(1)), noreply, framing);
      return;
    }
    replyDropped(noreply, () -> engine.dropDimension(line.token(1)));
  }

  /** "dimlist": "DIMENSION <name> <definition JSON>" each, in definition order, then "END". */
  private void dimlist(AsciiLine line, AsciiCommands.Framing framing) {
    if (line.tokenCount != 1) {
      error(AsciiCommands.ERROR);
      return;
    }
    if (!local) {
      answerLater(clusterDimensions.list().thenApply(SegmentText::dimensions), false, framing);
      return;
    }
    framing.writeReply(SegmentText.dimensions(engine.dimensions()));
  }

  /**
   * "segof <key>": "IN <name>" per segment, then "END"; "segof <key> since": "IN <name>
   * <unix-millis-entered>" per segment, then "END".
   */
  private void segof(AsciiLine line) {
    boolean since = line.tokenCount == 3 && line.token(2).equals("since");
    if ((line.tokenCount != 2 && !since) || line.moreTokens) {
      error(AsciiCommands.ERROR);
      return;
    }
    if (line.tokenLength(1) > KEY_MAX_LENGTH) {
      error(AsciiCommands.BAD_FORMAT);
      return;
    }
    if (since) {
      for (SegmentMembership m :
          keys.membershipsOf(line.bytes, line.tokenStart[1], line.tokenLength(1))) {
        replies.bytes(ascii("IN " + m.segment() + " " + m.enteredMillis() + "\r\n"));
      }
    } else {
      for (String name : keys.segmentsOf(line.bytes, line.tokenStart[1], line.tokenLength(1))) {
        replies.bytes(ascii("IN " + name + "\r\n"));
      }
    }
    replies.bytes(END);
  }

  // ---------------------------------------------------------------------------------------------
  // Watching

  /** "watch <name>+": "WATCHING <n>", then CHANGE lines as they happen. */
  private void watch(AsciiLine line) {
    if (line.tokenCount < 2 || line.moreTokens) {
      error(AsciiCommands.ERROR);
      return;
    }
    List<String> names = new ArrayList<>();
    for (int i = 1; i < line.tokenCount; i++) {
      names.add(line.token(i));
    }
    String unknown;
    try {
      unknown = watch.unknownSegment(names);
    } catch (EngineException e) {
      error(ascii("CLIENT_ERROR " + ProfileRejectedException.oneLine(e.getMessage()) + "\r\n"));
      return;
    }
    if (unknown != null) {
      error(ascii("CLIENT_ERROR unknown segment " + unknown + "\r\n"));
      return;
    }
    try {
      watch.start(names, TEXT_FORMAT);
    } catch (EngineException e) {
      error(ascii("CLIENT_ERROR " + ProfileRejectedException.oneLine(e.getMessage()) + "\r\n"));
      return;
    }
    if (!local) {
      try {
        WatchSession session = watch;
        session.addPeers(cluster.watchPeers(names, session::offerRemote, session::missedRemote));
      } catch (RuntimeException e) {
        watch.close();
        error(ascii("SERVER_ERROR " + ProfileRejectedException.oneLine(e.getMessage()) + "\r\n"));
        return;
      }
    }
    replies.bytes(ascii("WATCHING " + names.size() + "\r\n"));
  }

  /** "unwatch": the changes that already happened, then "UNWATCHED"; nothing after it. */
  private void unwatch(AsciiLine line) {
    if (line.tokenCount != 1) {
      error(AsciiCommands.ERROR);
      return;
    }
    watch.stop();
    replies.bytes(UNWATCHED);
  }

  /**
   * "CHANGE enter|leave <segment> <key> <unix-millis>", "MISSED <n>", and when the node ends the
   * watch, "SERVER_ERROR <reason>" before it closes the connection.
   */
  private static final WatchSession.Format TEXT_FORMAT =
      new WatchSession.Format() {
        @Override
        public void change(
            ByteBuf out,
            byte[] segmentUtf8,
            byte[] key,
            int keyLength,
            boolean enter,
            long timeMillis) {
          out.writeBytes(enter ? CHANGE_ENTER : CHANGE_LEAVE)
              .writeBytes(segmentUtf8)
              .writeByte(' ');
          KeyText.append(out, key, keyLength);
          out.writeByte(' ');
          ReplyBuffer.writeDecimal(out, timeMillis);
          out.writeBytes(CRLF);
        }

        @Override
        public void missed(ByteBuf out, long count) {
          out.writeBytes(MISSED);
          ReplyBuffer.writeDecimal(out, count);
          out.writeBytes(CRLF);
        }

        @Override
        public void ended(ByteBuf out, String reason) {
          out.writeBytes(SERVER_ERROR).writeBytes(reason.getBytes(UTF_8)).writeBytes(CRLF);
        }
      };

  private static final byte[] CHANGE_ENTER = ascii("CHANGE enter ");
  private static final byte[] CHANGE_LEAVE = ascii("CHANGE leave ");
  private static final byte[] MISSED = ascii("MISSED ");
  private static final byte[] SERVER_ERROR = ascii("SERVER_ERROR ");

  void onWritable() {
    watch.resume();
  }

  boolean watching() {
    return watch.active();
  }

  /** End of input ends a watch as {@code unwatch} does, without its reply. */
  void inputEnded() {
    watch.stop();
  }

  void close() {
    watch.close();
  }

  private void error(byte[] reply) {
    stats.protocolErrors.increment();
    replies.bytes(reply);
  }

  /** As memcached's {@code out_string}: under noreply even an error goes unsaid. */
  private void clientError(boolean noreply, byte[] reply) {
    stats.protocolErrors.increment();
    if (!noreply) {
      replies.bytes(reply);
    }
  }
}
