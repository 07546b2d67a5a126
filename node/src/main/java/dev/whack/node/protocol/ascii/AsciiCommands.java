package dev.whack.node.protocol.ascii;

import static java.nio.charset.StandardCharsets.US_ASCII;

import dev.whack.node.cluster.UpdatesLog;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.keyspace.ProfileRejectedException;
import dev.whack.node.keyspace.Status;
import dev.whack.node.keyspace.StoreMode;
import dev.whack.node.observability.NodeMetrics;
import dev.whack.node.observability.NodeStats;
import dev.whack.node.observability.StatsReport;
import dev.whack.node.protocol.ProtocolContext;
import dev.whack.node.protocol.ProtocolDecoder;
import dev.whack.node.protocol.ReplyBuffer;
import dev.whack.node.protocol.WritesThroughLog;
import dev.whack.node.tenant.Tenant;
import dev.whack.node.tenant.Tenants;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;

/**
 * Parses the classic text commands, runs them on the connection's {@link KeyspaceSession} and
 * writes memcached's replies, byte for byte as memcached 1.6 does (token counts, error strings,
 * noreply rules); meta commands are delegated to {@link MetaCommands}. Quotes in comments are from
 * memcached's protocol.txt.
 *
 * <p>Concurrency: one per connection, on that connection's event loop.
 */
public final class AsciiCommands implements ProtocolDecoder.Commands {
  /** What the commands need from the framing layer. */
  interface Framing {
    /** The command line declared a data block of this many bytes (plus "\r\n"). */
    void expectData(int length);

    /** Discard this many bytes of a refused data block. */
    void swallow(long bytes);

    /** Send what is queued, then close. */
    void closeAfterFlush();

    /** Hold every later command until {@link #resumeWith}: this one is answered asynchronously. */
    void suspend();

    /** The asynchronous answer is here: write it (null: nothing) and carry on. */
    void resumeWith(byte[] reply);

    /** Writes a whole reply that may be long: at once, or in pieces as the client reads. */
    void writeReply(byte[] reply);

    /** This command's reply is not complete: {@code rest} writes the rest as the client reads. */
    void continueLater(ProtocolDecoder.Continuation rest);

    /**
     * Runs {@code then} once the writes through the log answered later are answered, holding later
     * commands until then; at once when none waits.
     */
    void runWhenAnswered(Runnable then);
  }

  static final int KEY_MAX_LENGTH = 250;

  static final byte[] ERROR = ascii("ERROR\r\n");
  static final byte[] BAD_FORMAT = ascii("CLIENT_ERROR bad command line format\r\n");
  static final byte[] BAD_DATA_CHUNK = ascii("CLIENT_ERROR bad data chunk\r\n");
  static final byte[] TOO_LARGE = ascii("SERVER_ERROR object too large for cache\r\n");
  static final byte[] OUT_OF_MEMORY = ascii("SERVER_ERROR out of memory storing object\r\n");
  static final byte[] INVALID_DELTA = ascii("CLIENT_ERROR invalid numeric delta argument\r\n");
  static final byte[] NON_NUMERIC =
      ascii("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
  static final byte[] INVALID_EXPTIME = ascii("CLIENT_ERROR invalid exptime argument\r\n");
  static final byte[] RESERVED_KEY = ascii("CLIENT_ERROR reserved key\r\n");
  static final byte[] APPEND_TO_PROFILE =
      ascii("CLIENT_ERROR cannot append or prepend to a profile\r\n");
  static final byte[] ARITHMETIC_ON_PROFILE =
      ascii("CLIENT_ERROR cannot increment or decrement a profile\r\n");
  static final byte[] DELETE_USAGE =
      ascii("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");

  static final byte[] STORED = ascii("STORED\r\n");
  private static final byte[] NOT_STORED = ascii("NOT_STORED\r\n");
  private static final byte[] EXISTS = ascii("EXISTS\r\n");
  static final byte[] NOT_FOUND = ascii("NOT_FOUND\r\n");
  static final byte[] DELETED = ascii("DELETED\r\n");
  private static final byte[] TOUCHED = ascii("TOUCHED\r\n");
  private static final byte[] OK = ascii("OK\r\n");
  private static final byte[] RESET = ascii("RESET\r\n");
  private static final byte[] END = ascii("END\r\n");
  private static final byte[] VALUE = ascii("VALUE ");
  private static final byte[] CRLF = ascii("\r\n");
  private static final byte[] STAT = ascii("STAT ");
  private static final byte[] SHUTDOWN_DISABLED = ascii("ERROR: shutdown not enabled\r\n");
  private static final byte[] SLABS_SAME = ascii("SAME src and dst class are identical\r\n");
  private static final byte[] SLABS_NO_SPARE = ascii("NOSPARE source class has no spare pages\r\n");
  private static final byte[] SLABS_BAD_CLASS = ascii("BADCLASS invalid src or dst class id\r\n");
  private static final byte[] DETAIL_USAGE =
      ascii("CLIENT_ERROR usage: stats detail on|off|dump\r\n");

  private static final byte[] CMD_GET = ascii("get");
  private static final byte[] CMD_GETS = ascii("gets");
  private static final byte[] CMD_GAT = ascii("gat");
  private static final byte[] CMD_GATS = ascii("gats");
  private static final byte[] CMD_SET = ascii("set");
  private static final byte[] CMD_ADD = ascii("add");
  private static final byte[] CMD_REPLACE = ascii("replace");
  private static final byte[] CMD_APPEND = ascii("append");
  private static final byte[] CMD_PREPEND = ascii("prepend");
  private static final byte[] CMD_CAS = ascii("cas");
  private static final byte[] CMD_DELETE = ascii("delete");
  private static final byte[] CMD_INCR = ascii("incr");
  private static final byte[] CMD_DECR = ascii("decr");
  private static final byte[] CMD_TOUCH = ascii("touch");
  private static final byte[] CMD_FLUSH_ALL = ascii("flush_all");
  private static final byte[] CMD_VERSION = ascii("version");
  private static final byte[] CMD_VERBOSITY = ascii("verbosity");
  private static final byte[] CMD_STATS = ascii("stats");
  private static final byte[] CMD_QUIT = ascii("quit");
  private static final byte[] CMD_SHUTDOWN = ascii("shutdown");
  private static final byte[] CMD_SLABS = ascii("slabs");
  private static final byte[] CMD_SNAPSHOT = ascii("snapshot");
  private static final byte[] CMD_CLUSTER = ascii("cluster");
  private static final byte[] CMD_TENANT = ascii("tenant");
  private static final byte[] WORD_MAP = ascii("map");
  private static final byte[] NO_DATA_DIR =
      ascii("SERVER_ERROR no data directory: start the node with --data-dir\r\n");
  private static final byte[] CMD_LOCAL = ascii("local");
  private static final byte[] CMD_READER = ascii("reader");
  private static final byte[] CMD_MG = ascii("mg");
  private static final byte[] NOREPLY = ascii("noreply");
  private static final byte[] ZERO = ascii("0");
  private static final byte[] HTTP_VERSION = ascii("HTTP/");

  // Bound to the tenant the connection works in ({@link #bind}): the default one's until a login
  // moves it into its user's, before any command of its own ran.
  private ProtocolContext context;
  private KeyspaceSession keys;
  private NodeStats stats;
  private dev.whack.node.durability.DurableLog log;

  /** The tenant's data directory, for {@code snapshot}; null for a node in memory only. */
  private dev.whack.node.durability.Durability durability;

  private StatsReport statsReport;
  private MetaCommands meta;
  private ProfileCommands profileCommands;
  private ItemDumpCommand itemDump;
  private ClusterRouting routing;

  /** The node's statistics: what a connection reads and writes is counted node-wide. */
  private final NodeStats nodeStats;

  private ChannelHandlerContext ctx;
  private final NodeMetrics metrics;
  private final byte[] versionLine;
  private final TenantCommands tenantCommands;

  /** Authentication and roles, or null when the node has no auth file. */
  private final TextAccess access;

  /** The current command came as {@code local <command>}. */
  private boolean local;

  /**
   * The current command came as {@code reader mg ...}: a member relaying a {@code read} user's
   * {@code mg}, which must not take a stale item's win token here either.
   */
  private boolean asReader;

  private final AsciiNumbers numbers = new AsciiNumbers();
  private final Outcome outcome = new Outcome();

  private ReplyBuffer replies;

  // The retrieval being answered in pieces (get/gets/gat/gats whose values pass the connection's
  // reply bound): where its next key starts in the line buffer, which is not reused until it ends.
  private AsciiLine retrievalLine;
  private int retrievalPos;
  private boolean retrievalWithCas;
  private boolean retrievalTouch;
  private long retrievalExptime;
  private final ProtocolDecoder.Continuation retrievalRest = this::continueRetrieval;

  // The storage command waiting for its data block. Its key still sits in the line buffer,
  // which is not reused until the block has arrived.
  private AsciiLine pendingLine;
  private StoreMode pendingMode;
  private int pendingFlags;
  private long pendingExptime;
  private long pendingCas;
  private boolean pendingNoreply;
  private boolean pendingIsMeta;
  private boolean pendingIsProfile;

  private final dev.whack.node.cluster.Cluster cluster;

  public AsciiCommands(ProtocolContext context) {
    this.nodeStats = context.stats();
    this.cluster = context.cluster();
    this.metrics = context.metrics();
    this.versionLine = ascii("VERSION " + context.version() + "\r\n");
    this.access =
        context.auth() == null ? null : new TextAccess(context.auth(), nodeStats, numbers, this);
    this.tenantCommands = new TenantCommands(access);
    bind(context);
  }

  /** Binds every command to {@code tenantContext}: its keyspace, engine, statistics and log. */
  private void bind(ProtocolContext tenantContext) {
    this.context = tenantContext;
    this.keys = tenantContext.keyspace().session();
    this.stats = tenantContext.stats();
    this.log = tenantContext.log();
    this.durability = tenantContext.durability();
    this.statsReport = tenantContext.statsSource();
    this.meta = new MetaCommands(tenantContext, keys, numbers, outcome, this::mayWin);
    this.profileCommands =
        new ProfileCommands(
            keys,
            tenantContext.engine(),
            stats,
            metrics,
            tenantContext.watchers(),
            tenantContext.cluster(),
            numbers,
            outcome);
    this.itemDump = new ItemDumpCommand(keys, stats, numbers);
    this.routing =
        new ClusterRouting(tenantContext.cluster(), keys, tenantContext.engine(), this::mayWin);
    tenantCommands.bind(tenantContext);
  }

  /**
   * Moves the connection into {@code tenant}, its user's, at login: every later command works on
   * that tenant's keyspace only. Nothing of the default tenant is held, as a login comes before any
   * command of the connection's own.
   */
  void enter(Tenant tenant) {
    if (tenant.context() != context) {
      if (context.tenant() != null) {
        context.tenant().leave(ctx.channel());
      }
      bind(tenant.context());
      attachBound();
      replies.useLog(log);
    }
    tenant.join(ctx.channel());
  }

  @Override
  public Tenant tenant() {
    return context.tenant();
  }

  /** The node's tenants, or null outside a node. */
  Tenants tenants() {
    return context.tenants();
  }

  @Override
  public void attach(ChannelHandlerContext ctx, ReplyBuffer replies) {
    this.ctx = ctx;
    this.replies = replies;
    attachBound();
    tenantCommands.attach(replies, ctx.executor());
    if (access != null) {
      access.attach(ctx, replies);
    }
    if (context.tenant() != null) {
      context.tenant().join(ctx.channel());
    }
  }

  private void attachBound() {
    meta.attach(replies);
    profileCommands.attach(ctx, replies);
    itemDump.attach(replies);
    routing.attach(ctx, replies);
  }

  /**
   * Whether the current command may take a stale item's win token: not when the connection's role
   * cannot write (an auth file is in force), nor when a member relays it for a user who cannot.
   */
  private boolean mayWin() {
    return !asReader && (access == null || access.mayWrite());
  }

  /** False while an auth file is in force and the connection has not authenticated. */
  boolean authenticated() {
    return access == null || access.authenticated();
  }

  @Override
  public void onWritable() {
    profileCommands.onWritable();
  }

  @Override
  public boolean watching() {
    return profileCommands.watching();
  }

  @Override
  public void inputEnded() {
    profileCommands.inputEnded();
  }

  @Override
  public void close() {
    profileCommands.close();
  }

  @Override
  public java.util.concurrent.atomic.LongAdder bytesWrittenCounter() {
    return nodeStats.bytesWritten;
  }

  @Override
  public dev.whack.node.durability.DurableLog log() {
    return log;
  }

  @Override
  public void countBytesRead(int bytes) {
    nodeStats.bytesRead.add(bytes);
  }

  void countProtocolError() {
    stats.protocolErrors.increment();
  }

  /** Executes one command line and records its latency (storage commands: at data arrival). */
  void onLine(AsciiLine line, Framing framing) {
    if (access != null && access.intercepts(line, framing)) {
      return; // an authentication, or a command this connection may not run: before anything
    }
    // "reader mg ...": an mg that may not take a win token, as a read user's (docs/protocol.md).
    asReader =
        line.tokenCount > 2 && line.tokenEquals(0, CMD_READER) && line.tokenEquals(1, CMD_MG);
    if (asReader) {
      line.dropFirstToken();
    }
    // "local <command>": answer from this node only, never forwarding or asking the others.
    local = line.tokenCount > 1 && line.tokenEquals(0, CMD_LOCAL);
    if (local) {
      line.dropFirstToken();
    } else if (routing.clustered() && routing.routeLine(line, framing)) {
      return; // forwarded to the key's owner; its answer is written when it comes
    }
    long start = System.nanoTime();
    int family = dispatch(line, framing);
    if (family >= 0) {
      metrics.recordLatency(family, System.nanoTime() - start);
    }
  }

  /** Runs the command; returns its latency family, or -1 if it now waits for a data block. */
  private int dispatch(AsciiLine line, Framing framing) {
    if (line.tokenCount == 0) {
      error(ERROR);
      return NodeMetrics.OTHER;
    }
    if (line.tokenLength(0) == 2 && line.tokenByte(0, 0) == 'm') {
      if (meta.onLine(line, framing)) {
        if (meta.awaitingData()) {
          pendingLine = line;
          pendingIsMeta = true;
          return -1;
        }
        return meta.lastFamily();
      }
      error(ERROR);
      return NodeMetrics.OTHER;
    }
    if (line.tokenEquals(0, CMD_GET)) {
      retrieve(line, false, false, framing);
      return NodeMetrics.GET;
    } else if (line.tokenEquals(0, CMD_SET)) {
      return storage(line, StoreMode.SET, framing);
    } else if (line.tokenEquals(0, CMD_GETS)) {
      retrieve(line, true, false, framing);
      return NodeMetrics.GET;
    } else if (line.tokenEquals(0, CMD_DELETE)) {
      delete(line, framing);
      return NodeMetrics.DELETE;
    } else if (line.tokenEquals(0, CMD_INCR)) {
      arithmetic(line, true);
      return NodeMetrics.ARITHMETIC;
    } else if (line.tokenEquals(0, CMD_DECR)) {
      arithmetic(line, false);
      return NodeMetrics.ARITHMETIC;
    }
    return dispatchRare(line, framing);
  }

  private int dispatchRare(AsciiLine line, Framing framing) {
    if (line.tokenEquals(0, CMD_ADD)) {
      return storage(line, StoreMode.ADD, framing);
    } else if (line.tokenEquals(0, CMD_REPLACE)) {
      return storage(line, StoreMode.REPLACE, framing);
    } else if (line.tokenEquals(0, CMD_APPEND)) {
      return storage(line, StoreMode.APPEND, framing);
    } else if (line.tokenEquals(0, CMD_PREPEND)) {
      return storage(line, StoreMode.PREPEND, framing);
    } else if (line.tokenEquals(0, CMD_CAS)) {
      return storage(line, StoreMode.CAS, framing);
    } else if (line.tokenEquals(0, CMD_TOUCH)) {
      touch(line);
      return NodeMetrics.TOUCH;
    } else if (line.tokenEquals(0, CMD_GAT)) {
      retrieve(line, false, true, framing);
      return NodeMetrics.TOUCH;
    } else if (line.tokenEquals(0, CMD_GATS)) {
      retrieve(line, true, true, framing);
      return NodeMetrics.TOUCH;
    } else if (line.tokenEquals(0, CMD_FLUSH_ALL)) {
      flushAll(line);
    } else if (line.tokenEquals(0, CMD_VERSION)) {
      replies.bytes(versionLine);
    } else if (line.tokenEquals(0, CMD_VERBOSITY)) {
      verbosity(line);
    } else if (line.tokenEquals(0, CMD_STATS)) {
      stats(line, framing);
    } else if (line.tokenEquals(0, CMD_QUIT)) {
      framing.closeAfterFlush();
    } else if (line.tokenEquals(0, CMD_SHUTDOWN)) {
      error(SHUTDOWN_DISABLED);
    } else if (line.tokenEquals(0, CMD_SLABS)) {
      slabs(line);
    } else if (line.tokenEquals(0, CMD_SNAPSHOT)) {
      snapshot(line, framing);
    } else if (line.tokenEquals(0, CMD_CLUSTER)) {
      clusterMap(line);
    } else if (line.tokenEquals(0, CMD_TENANT)) {
      tenantCommands.onLine(line, framing);
    } else if (line.tokenEquals(0, ItemDumpCommand.NAME)) {
      itemDump.run(line, framing);
    } else if (profileCommands.onLine(line, framing, keys.maxItemSize(), local)) {
      if (profileCommands.awaitingData()) {
        pendingLine = line;
        pendingIsProfile = true;
        return -1;
      }
      return NodeMetrics.SEGMENT;
    } else if (looksLikeHttp(line)) {
      stats.protocolErrors.increment();
      framing.closeAfterFlush();
    } else {
      error(ERROR);
    }
    return NodeMetrics.OTHER;
  }

  /** A storage command line: -1 if it now waits for its data block, else it failed early. */
  private int storage(AsciiLine line, StoreMode mode, Framing framing) {
    storageLine(line, mode, framing);
    return pendingLine != null ? -1 : NodeMetrics.STORE;
  }

  /** Completes a storage command once its data block has arrived. */
  void onData(byte[] data, boolean terminated, Framing framing) {
    if (access != null && access.awaitingToken()) {
      access.onToken(data, terminated, framing);
      return;
    }
    if (routing.clustered() && routing.routeData(pendingLine, data, terminated, framing)) {
      pendingLine = null;
      pendingIsMeta = false;
      pendingIsProfile = false;
      profileCommands.cancelPending();
      return;
    }
    if (pendingIsProfile) {
      AsciiLine line = pendingLine;
      pendingLine = null;
      pendingIsProfile = false;
      profileCommands.onData(line, data, terminated, framing);
      return;
    }
    if (!pendingIsMeta && terminated && storedThroughLog(data)) {
      return;
    }
    if (replies.answersToCome() > 0) {
      // A write of this node's own, behind writes still going through the log: after them.
      AsciiLine line = pendingLine;
      framing.runWhenAnswered(
          () -> {
            pendingLine = line;
            completeStore(data, terminated);
          });
      return;
    }
    long start = System.nanoTime();
    completeStore(data, terminated);
    metrics.recordLatency(NodeMetrics.STORE, System.nanoTime() - start);
  }

  /**
   * Whether removing the key must go through a managed cluster's log: it holds something (the log
   * may have written it, and the standby copies hold it), its slot is still being taken over here,
   * or writes before this one are still going through the log (one may write this key).
   */
  private boolean loggedRemoval(byte[] key, int offset, int length) {
    return cluster.updatesLog() != null
        && (replies.answersToCome() > 0
            || WritesThroughLog.ofDelete(cluster, keys, key, offset, length));
  }

  /**
   * A member of a Kafka-managed cluster writes a profile through the updates log (docs/cluster.md,
   * "Writes through the log"): a set goes there and is answered once this member applied it; a
   * conditional write of a profile is refused. False: the value is opaque (or the key reserved),
   * stored here as memcached stores it.
   */
  private boolean storedThroughLog(byte[] data) {
    UpdatesLog updatesLog = cluster.updatesLog();
    AsciiLine line = pendingLine;
    if (updatesLog == null
        || pendingMode == StoreMode.APPEND
        || pendingMode == StoreMode.PREPEND
        || Keyspace.isReserved(line.bytes, line.tokenStart[1], line.tokenLength(1))) {
      return false;
    }
    KeyspaceSession.SourcedKind kind =
        WritesThroughLog.ofSet(
            cluster, keys, line.bytes, line.tokenStart[1], line.tokenLength(1), pendingFlags, data);
    if (kind == null) {
      return false;
    }
    pendingLine = null;
    boolean noreply = pendingNoreply;
    if (pendingMode != StoreMode.SET) {
      reply(noreply, LoggedReplies.SET_UPDATE_OR_DELETE);
      return true;
    }
    stats.cmdSet.increment();
    long start = System.nanoTime();
    replies.answerLater(
        updatesLog.append(
            line.bytes,
            line.tokenStart[1],
            line.tokenLength(1),
            kind,
            data,
            pendingFlags,
            pendingExptime),
        (applied, failure) -> {
          if (failure == null && applied.rejected() == null) {
            stats.countStore(applied.status());
          }
          reply(noreply, LoggedReplies.store(applied, failure));
          metrics.recordLatency(NodeMetrics.STORE, System.nanoTime() - start);
        });
    return true;
  }

  private void completeStore(byte[] data, boolean terminated) {
    AsciiLine line = pendingLine;
    pendingLine = null;
    if (pendingIsMeta) {
      pendingIsMeta = false;
      meta.onData(line, data, terminated);
      return;
    }
    if (!terminated) {
      // memcached reads exactly the declared length plus two bytes, then refuses the command.
      clientError(pendingNoreply, BAD_DATA_CHUNK);
      return;
    }
    stats.cmdSet.increment();
    Status status;
    try {
      status =
          keys.store(
              pendingMode,
              line.bytes,
              line.tokenStart[1],
              line.tokenLength(1),
              pendingFlags,
              pendingExptime,
              data,
              pendingCas,
              false,
              false,
              outcome);
    } catch (ProfileRejectedException e) {
      clientError(pendingNoreply, ascii("CLIENT_ERROR " + e.getMessage() + "\r\n"));
      return;
    }
    if (status == Status.RESERVED) {
      clientError(pendingNoreply, RESERVED_KEY);
      return;
    }
    stats.countStore(status);
    if (pendingMode == StoreMode.CAS) {
      switch (status) {
        case STORED -> stats.casHits.increment();
        case EXISTS -> stats.casBadval.increment();
        case NOT_FOUND -> stats.casMisses.increment();
        default -> {}
      }
    }
    if (pendingNoreply) {
      return;
    }
    switch (status) {
      case STORED -> replies.bytes(STORED);
      case EXISTS -> replies.bytes(EXISTS);
      case NOT_FOUND -> replies.bytes(NOT_FOUND);
      // An append past the limit is memcached's "out of memory"; a profile too large to render
      // within the limit is refused as a value over it would be.
      case TOO_LARGE -> replies.bytes(isConcatenation(pendingMode) ? OUT_OF_MEMORY : TOO_LARGE);
      case IS_PROFILE -> error(APPEND_TO_PROFILE);
      default -> replies.bytes(NOT_STORED);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Storage

  /**
   * "set <key> <flags> <exptime> <bytes> [noreply]\r\n" and "cas <key> <flags> <exptime> <bytes>
   * <cas unique> [noreply]\r\n".
   */
  private void storageLine(AsciiLine line, StoreMode mode, Framing framing) {
    boolean isCas = mode == StoreMode.CAS;
    int required = isCas ? 6 : 5;
    if (line.moreTokens || (line.tokenCount != required && line.tokenCount != required + 1)) {
      error(ERROR);
      return;
    }
    boolean noreply = isNoreply(line);
    byte[] b = line.bytes;
    if (line.tokenLength(1) > KEY_MAX_LENGTH) {
      clientError(noreply, BAD_FORMAT);
      return;
    }
    if (!numbers.unsigned32(b, line.tokenStart[2], line.tokenEnd[2])) {
      clientError(noreply, BAD_FORMAT);
      return;
    }
    int flags = (int) numbers.value;
    if (!numbers.signed32(b, line.tokenStart[3], line.tokenEnd[3])) {
      clientError(noreply, BAD_FORMAT);
      return;
    }
    long exptime = numbers.value;
    if (!numbers.signed32(b, line.tokenStart[4], line.tokenEnd[4])) {
      clientError(noreply, BAD_FORMAT);
      return;
    }
    long length = numbers.value;
    long cas = 0;
    if (isCas) {
      if (!numbers.unsigned64(b, line.tokenStart[5], line.tokenEnd[5])) {
        clientError(noreply, BAD_FORMAT);
        return;
      }
      cas = numbers.value;
    }
    if (length < 0 || length > Integer.MAX_VALUE - 2) {
      clientError(noreply, BAD_FORMAT);
      return;
    }
    if (stats.prefixes.enabled()) {
      stats.prefixes.recordSet(b, line.tokenStart[1], line.tokenLength(1));
    }
    if (length > keys.maxItemSize()) {
      stats.countStore(Status.TOO_LARGE);
      if (mode == StoreMode.SET && loggedRemoval(b, line.tokenStart[1], line.tokenLength(1))) {
        // As below, through the log, in order: answered once the removal is applied.
        boolean quiet = noreply;
        replies.answerLater(
            cluster
                .updatesLog()
                .append(
                    b,
                    line.tokenStart[1],
                    line.tokenLength(1),
                    KeyspaceSession.SourcedKind.DELETE,
                    null,
                    0,
                    0),
            (applied, failure) -> reply(quiet, TOO_LARGE));
      } else {
        if (mode == StoreMode.SET) {
          // As memcached: a set that cannot be stored must not leave the old value readable.
          keys.delete(b, line.tokenStart[1], line.tokenLength(1), 0);
        }
        if (!noreply) {
          replies.bytes(TOO_LARGE);
        }
      }
      framing.swallow(length + 2);
      return;
    }
    pendingLine = line;
    pendingMode = mode;
    pendingFlags = flags;
    pendingExptime = exptime;
    pendingCas = cas;
    pendingNoreply = noreply;
    framing.expectData((int) length);
  }

  // ---------------------------------------------------------------------------------------------
  // Retrieval

  /**
   * "get <key>*", "gets <key>*", "gat <exptime> <key>*", "gats <exptime> <key>*".
   *
   * <p>Values are written one after the other into the reply buffer; when the connection's unread
   * replies reach their bound ({@link ReplyBuffer#endOfPiece}) the command stops after a value and
   * continues from the next key when the client has read, so a multi-get naming thousands of large
   * values holds a few MiB, not all of them (memcached, which holds references rather than copies,
   * answers it whole). The client still gets every value, in order, then END.
   */
  private void retrieve(AsciiLine line, boolean withCas, boolean touch, Framing framing) {
    // "gat <exptime>" with no key is a valid, empty retrieval in memcached; "get" alone is not.
    if (line.tokenCount < 2) {
      error(ERROR);
      return;
    }
    long exptime = 0;
    if (touch) {
      if (!numbers.signed32(line.bytes, line.tokenStart[1], line.tokenEnd[1])) {
        error(INVALID_EXPTIME);
        return;
      }
      exptime = numbers.value;
    }
    int firstKey = touch ? line.tokenEnd[1] : line.tokenStart[1];
    int tooLong = firstTooLongKey(line.bytes, firstKey, line.length);
    if (tooLong >= 0) {
      // memcached answers the whole command with the error, dropping the values it had found; the
      // keys before the bad one were still looked up (and touched, and counted).
      retrieveKeys(line, firstKey, tooLong, withCas, touch, exptime, false);
      error(BAD_FORMAT);
      return;
    }
    int stoppedAt = retrieveKeys(line, firstKey, line.length, withCas, touch, exptime, true);
    if (stoppedAt < line.length) {
      retrievalLine = line;
      retrievalPos = stoppedAt;
      retrievalWithCas = withCas;
      retrievalTouch = touch;
      retrievalExptime = exptime;
      framing.continueLater(retrievalRest);
      return;
    }
    replies.bytes(END);
  }

  /** The next keys of a retrieval answered in pieces; true when its END is written. */
  private boolean continueRetrieval() {
    AsciiLine line = retrievalLine;
    int stoppedAt =
        retrieveKeys(
            line,
            retrievalPos,
            line.length,
            retrievalWithCas,
            retrievalTouch,
            retrievalExptime,
            true);
    if (stoppedAt < line.length) {
      retrievalPos = stoppedAt;
      return false;
    }
    retrievalLine = null;
    replies.bytes(END);
    return true;
  }

  /** Where the first key longer than memcached's limit starts, or -1. */
  private static int firstTooLongKey(byte[] b, int pos, int end) {
    while (pos < end) {
      while (pos < end && b[pos] == ' ') {
        pos++;
      }
      int keyStart = pos;
      while (pos < end && b[pos] != ' ') {
        pos++;
      }
      if (pos - keyStart > KEY_MAX_LENGTH) {
        return keyStart;
      }
    }
    return -1;
  }

  /**
   * Looks up the keys of {@code line} from {@code pos} to {@code end}, writing a VALUE block per
   * hit when {@code write} is set; stops after a key when the connection's reply bound is reached
   * or the reply has had its turn ({@link ReplyBuffer#endOfPiece}).
   *
   * @return where the next key starts ({@code end} when every key was answered)
   */
  private int retrieveKeys(
      AsciiLine line,
      int pos,
      int end,
      boolean withCas,
      boolean touch,
      long exptime,
      boolean write) {
    byte[] b = line.bytes;
    while (pos < end) {
      while (pos < end && b[pos] == ' ') {
        pos++;
      }
      if (pos == end) {
        break;
      }
      int keyStart = pos;
      while (pos < end && b[pos] != ' ') {
        pos++;
      }
      int keyLength = pos - keyStart;
      stats.cmdGet.increment();
      boolean hit;
      if (touch) {
        stats.cmdTouch.increment();
        hit = keys.getAndTouch(b, keyStart, keyLength, exptime, outcome);
        (hit ? stats.touchHits : stats.touchMisses).increment();
      } else {
        hit = keys.get(b, keyStart, keyLength, outcome);
      }
      (hit ? stats.getHits : stats.getMisses).increment();
      if (stats.prefixes.enabled()) {
        stats.prefixes.recordGet(b, keyStart, keyLength, hit);
      }
      if (!write) {
        continue;
      }
      if (hit) {
        writeValue(
            replies.out(),
            b,
            keyStart,
            keyLength,
            outcome.flags,
            outcome.value,
            withCas,
            outcome.cas);
      }
      if (replies.endOfPiece()) {
        return pos;
      }
    }
    return end;
  }

  /** "VALUE <key> <flags> <bytes> [<cas unique>]\r\n<data block>\r\n". */
  private static void writeValue(
      ByteBuf out,
      byte[] key,
      int keyOffset,
      int keyLength,
      int flags,
      byte[] value,
      boolean withCas,
      long cas) {
    out.writeBytes(VALUE);
    out.writeBytes(key, keyOffset, keyLength);
    out.writeByte(' ');
    ReplyBuffer.writeUnsignedDecimal(out, flags & 0xFFFF_FFFFL);
    out.writeByte(' ');
    ReplyBuffer.writeUnsignedDecimal(out, value.length);
    if (withCas) {
      out.writeByte(' ');
      ReplyBuffer.writeUnsignedDecimal(out, cas);
    }
    out.writeBytes(CRLF);
    out.writeBytes(value);
    out.writeBytes(CRLF);
  }

  // ---------------------------------------------------------------------------------------------
  // Other item commands

  /** "delete <key> [noreply]\r\n"; memcached still accepts a legacy hold time of 0. */
  private void delete(AsciiLine line, Framing framing) {
    if (line.tokenCount < 2 || line.tokenCount > 4 || line.moreTokens) {
      error(ERROR);
      return;
    }
    boolean noreply = false;
    if (line.tokenCount > 2) {
      boolean holdIsZero = line.tokenEquals(2, ZERO);
      noreply = isNoreply(line);
      boolean valid =
          (line.tokenCount == 3 && (holdIsZero || noreply))
              || (line.tokenCount == 4 && holdIsZero && noreply);
      if (!valid) {
        // memcached has already taken the noreply, so even this error is not sent (t/issue_3.t).
        clientError(noreply, DELETE_USAGE);
        return;
      }
    }
    if (line.tokenLength(1) > KEY_MAX_LENGTH) {
      clientError(noreply, BAD_FORMAT);
      return;
    }
    UpdatesLog updatesLog = cluster.updatesLog();
    if (updatesLog != null) {
      // While the slot is taken over here what it holds is not known yet: the log decides.
      if (WritesThroughLog.ofDelete(
          cluster, keys, line.bytes, line.tokenStart[1], line.tokenLength(1))) {
        deleteThroughLog(line, noreply, updatesLog);
        return;
      }
      if (replies.answersToCome() > 0) {
        // Behind writes still going through the log (one may write this key): decided after them.
        framing.runWhenAnswered(() -> delete(line, framing));
        return;
      }
    }
    if (stats.prefixes.enabled()) {
      stats.prefixes.recordDelete(line.bytes, line.tokenStart[1], line.tokenLength(1));
    }
    Status status = keys.delete(line.bytes, line.tokenStart[1], line.tokenLength(1), 0);
    if (status == Status.DELETED) {
      stats.deleteHits.increment();
      reply(noreply, DELETED);
    } else {
      stats.deleteMisses.increment();
      reply(noreply, NOT_FOUND);
    }
  }

  /** A managed member's delete of a profile: a tombstone in the updates log (docs/cluster.md). */
  private void deleteThroughLog(AsciiLine line, boolean noreply, UpdatesLog updatesLog) {
    if (stats.prefixes.enabled()) {
      stats.prefixes.recordDelete(line.bytes, line.tokenStart[1], line.tokenLength(1));
    }
    replies.answerLater(
        updatesLog.append(
            line.bytes,
            line.tokenStart[1],
            line.tokenLength(1),
            KeyspaceSession.SourcedKind.DELETE,
            null,
            0,
            0),
        (applied, failure) -> {
          if (failure == null && applied.status() == Status.DELETED) {
            stats.deleteHits.increment();
          } else if (failure == null) {
            stats.deleteMisses.increment();
          }
          reply(noreply, LoggedReplies.delete(applied, failure));
        });
  }

  /** "incr <key> <value> [noreply]\r\n" and "decr ...". */
  private void arithmetic(AsciiLine line, boolean increment) {
    if (line.moreTokens || (line.tokenCount != 3 && line.tokenCount != 4)) {
      error(ERROR);
      return;
    }
    boolean noreply = isNoreply(line);
    if (line.tokenLength(1) > KEY_MAX_LENGTH) {
      clientError(noreply, BAD_FORMAT);
      return;
    }
    if (!numbers.unsigned64(line.bytes, line.tokenStart[2], line.tokenEnd[2])) {
      clientError(noreply, INVALID_DELTA);
      return;
    }
    Status status =
        keys.arithmetic(
            line.bytes,
            line.tokenStart[1],
            line.tokenLength(1),
            increment,
            numbers.value,
            0,
            false,
            0,
            0,
            false,
            0,
            false,
            outcome);
    switch (status) {
      case STORED -> {
        (increment ? stats.incrHits : stats.decrHits).increment();
        if (!noreply) {
          replies.unsignedDecimal(outcome.number).bytes(CRLF);
        }
      }
      case NOT_FOUND -> {
        (increment ? stats.incrMisses : stats.decrMisses).increment();
        reply(noreply, NOT_FOUND);
      }
      case IS_PROFILE -> clientError(noreply, ARITHMETIC_ON_PROFILE);
      default -> clientError(noreply, NON_NUMERIC);
    }
  }

  /** "touch <key> <exptime> [noreply]\r\n". */
  private void touch(AsciiLine line) {
    if (line.moreTokens || (line.tokenCount != 3 && line.tokenCount != 4)) {
      error(ERROR);
      return;
    }
    boolean noreply = isNoreply(line);
    if (line.tokenLength(1) > KEY_MAX_LENGTH) {
      clientError(noreply, BAD_FORMAT);
      return;
    }
    if (!numbers.signed32(line.bytes, line.tokenStart[2], line.tokenEnd[2])) {
      clientError(noreply, INVALID_EXPTIME);
      return;
    }
    stats.cmdTouch.increment();
    if (keys.touch(line.bytes, line.tokenStart[1], line.tokenLength(1), numbers.value, outcome)) {
      stats.touchHits.increment();
      reply(noreply, TOUCHED);
    } else {
      stats.touchMisses.increment();
      reply(noreply, NOT_FOUND);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Node commands

  /** "flush_all [delay] [noreply]\r\n". */
  private void flushAll(AsciiLine line) {
    if (line.tokenCount > 3 || line.moreTokens) {
      error(ERROR);
      return;
    }
    boolean noreply = isNoreply(line);
    long delay = 0;
    if (line.tokenCount == 3 || (line.tokenCount == 2 && !noreply)) {
      if (!numbers.signed32(line.bytes, line.tokenStart[1], line.tokenEnd[1])) {
        clientError(noreply, INVALID_EXPTIME);
        return;
      }
      delay = numbers.value;
    }
    stats.cmdFlush.increment();
    keys.flushAll(delay);
    reply(noreply, OK);
  }

  /**
   * "snapshot\r\n": takes a snapshot of the data directory now and answers once it is on disk,
   * "SNAPSHOT <bytes> <records> <milliseconds>\r\n"; the connection's next commands wait for it.
   */
  private void snapshot(AsciiLine line, Framing framing) {
    if (line.tokenCount != 1 || line.moreTokens) {
      error(ERROR);
      return;
    }
    if (durability == null) {
      replies.bytes(NO_DATA_DIR);
      return;
    }
    framing.suspend();
    durability
        .snapshotInBackground()
        .whenComplete(
            (taken, failure) -> {
              String reply =
                  failure != null
                      ? "SERVER_ERROR snapshot failed: " + failure.getMessage() + "\r\n"
                      : "SNAPSHOT "
                          + taken.bytes()
                          + " "
                          + taken.records()
                          + " "
                          + taken.nanos() / 1_000_000
                          + "\r\n";
              ctx.executor().execute(() -> framing.resumeWith(ascii(reply)));
            });
  }

  /**
   * "cluster map": who owns which key, as clients route by it (docs/protocol.md, "cluster map"; the
   * format is {@code ClusterMap}'s text form). A node alone answers a ring of itself.
   */
  private void clusterMap(AsciiLine line) {
    if (line.tokenCount != 2 || line.moreTokens || !line.tokenEquals(1, WORD_MAP)) {
      error(ERROR);
      return;
    }
    StringBuilder reply = new StringBuilder(256);
    for (String l : cluster.map().lines()) {
      reply.append(l).append("\r\n");
    }
    replies.bytes(reply.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** "verbosity <level> [noreply]\r\n": accepted and ignored, as there is no log to tune. */
  private void verbosity(AsciiLine line) {
    if (line.moreTokens || (line.tokenCount != 2 && line.tokenCount != 3)) {
      error(ERROR);
      return;
    }
    boolean noreply = isNoreply(line);
    if (!numbers.unsigned32(line.bytes, line.tokenStart[1], line.tokenEnd[1])) {
      clientError(noreply, BAD_FORMAT);
      return;
    }
    reply(noreply, OK);
  }

  /**
   * "slabs automove <0|1|2> [noreply]", "slabs automove ratio <ratio> [noreply]" and "slabs
   * reassign <source class> <destination class>". Whack has no slab classes to move pages between
   * (one class, 1, stands for the whole store in {@code stats slabs}), so automove settings are
   * checked as memcached checks them and then have no effect, and a reassignment is refused with
   * the answer memcached gives when it cannot move a page.
   */
  private void slabs(AsciiLine line) {
    if (line.moreTokens) {
      error(ERROR);
      return;
    }
    byte[] b = line.bytes;
    if (line.tokenCount == 4 && line.token(1).equals("reassign")) {
      if (!numbers.signed32(b, line.tokenStart[2], line.tokenEnd[2])) {
        error(BAD_FORMAT);
        return;
      }
      long source = numbers.value;
      if (!numbers.signed32(b, line.tokenStart[3], line.tokenEnd[3])) {
        error(BAD_FORMAT);
        return;
      }
      long destination = numbers.value;
      if (source == destination) {
        replies.bytes(SLABS_SAME);
      } else if (source >= 0 && source <= 1 && destination >= 0 && destination <= 1) {
        replies.bytes(SLABS_NO_SPARE); // class 0 is memcached's global page pool
      } else {
        replies.bytes(SLABS_BAD_CLASS);
      }
      return;
    }
    if (line.tokenCount < 3 || !line.token(1).equals("automove")) {
      error(ERROR);
      return;
    }
    boolean noreply = isNoreply(line);
    if (line.token(2).equals("ratio")) {
      if (line.tokenCount < 4 || !AsciiNumbers.isDouble(line.token(3))) {
        clientError(noreply, ERROR);
        return;
      }
    } else {
      if (!numbers.unsigned32(b, line.tokenStart[2], line.tokenEnd[2])) {
        clientError(noreply, BAD_FORMAT);
        return;
      }
      if (numbers.value > 2) {
        clientError(noreply, ERROR);
        return;
      }
    }
    reply(noreply, OK);
  }

  /**
   * An unknown command whose last token starts with "HTTP/" is a web request sent to the cache
   * port, perhaps by a browser tricked into it; memcached closes such a connection without a reply
   * (t/malicious-commands.t). As there, only a command name that memcached would not look up among
   * its commands counts (it dispatches on the first letter, so an unknown command starting with g,
   * s, a, c, i, d or t is answered ERROR), and with more than 23 tokens the 23rd is the last one
   * memcached looks at.
   */
  private static boolean looksLikeHttp(AsciiLine line) {
    if (line.tokenLength(0) < 2) {
      return false;
    }
    switch (line.tokenByte(0, 0)) {
      case 'g', 's', 'a', 'c', 'i', 'd', 't' -> {
        return false;
      }
      default -> {}
    }
    int last = Math.min(line.tokenCount, AsciiLine.MAX_TOKENS - 1) - 1;
    if (line.tokenLength(last) < HTTP_VERSION.length) {
      return false;
    }
    for (int i = 0; i < HTTP_VERSION.length; i++) {
      if (line.tokenByte(last, i) != HTTP_VERSION[i]) {
        return false;
      }
    }
    return true;
  }

  /** "stats [group]\r\n". */
  private void stats(AsciiLine line, Framing framing) {
    if (line.tokenCount == 1) {
      writeStats("");
      return;
    }
    String group = line.token(1);
    switch (group) {
      case "reset" -> {
        stats.reset();
        replies.bytes(RESET);
      }
      case "detail" -> statsDetail(line, framing);
      default -> {
        if (!writeStats(group)) {
          error(ERROR);
        }
      }
    }
  }

  /** "stats detail on|off|dump\r\n": memcached reads the third token alone. */
  private void statsDetail(AsciiLine line, Framing framing) {
    String command = line.tokenCount > 2 ? line.token(2) : "";
    switch (command) {
      case "on" -> {
        stats.prefixes.enable(true);
        replies.bytes(OK);
      }
      case "off" -> {
        stats.prefixes.enable(false);
        replies.bytes(OK);
      }
      case "dump" -> framing.writeReply(stats.prefixes.dump());
      default -> error(DETAIL_USAGE);
    }
  }

  private boolean writeStats(String group) {
    boolean known =
        statsReport.write(
            group,
            (name, value) ->
                replies.bytes(STAT).bytes(ascii(name)).ascii(' ').bytes(ascii(value)).bytes(CRLF));
    if (known) {
      replies.bytes(END);
    }
    return known;
  }

  // ---------------------------------------------------------------------------------------------
  // Replies

  private static boolean isConcatenation(StoreMode mode) {
    return mode == StoreMode.APPEND || mode == StoreMode.PREPEND;
  }

  /** memcached's noreply: the last token is exactly "noreply". */
  static boolean isNoreply(AsciiLine line) {
    return line.tokenCount > 1 && line.tokenEquals(line.tokenCount - 1, NOREPLY);
  }

  private void reply(boolean noreply, byte[] message) {
    if (!noreply) {
      replies.bytes(message);
    }
  }

  /** memcached's {@code out_string} suppresses even errors when the command said noreply. */
  private void clientError(boolean noreply, byte[] message) {
    stats.protocolErrors.increment();
    if (!noreply) {
      replies.bytes(message);
    }
  }

  private void error(byte[] message) {
    stats.protocolErrors.increment();
    replies.bytes(message);
  }

  static byte[] ascii(String s) {
    return s.getBytes(US_ASCII);
  }
}
