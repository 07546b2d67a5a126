package dev.whack.node.protocol.binary;

import static dev.whack.node.protocol.binary.Opcodes.*;

import dev.whack.node.cluster.ClusterException;
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
import java.nio.charset.StandardCharsets;

/**
 * Executes binary protocol requests on the connection's {@link KeyspaceSession} and writes
 * memcached's responses: the same shape checks as memcached's {@code dispatch_bin_command} (a bad
 * shape is "Invalid arguments" and a close, an unknown opcode is "Unknown command" with the body
 * skipped), quiet opcodes that stay silent on success (and gets on a miss), errors always answered,
 * the cas on every response.
 *
 * <p>Concurrency: one per connection, on that connection's event loop.
 */
public final class BinaryCommands implements ProtocolDecoder.Commands {
  /** What the commands need from the framing layer. */
  interface Framing {
    void readKeyAndExtras();

    void readValue();

    void done();

    void swallow(long bytes);

    void closeAfterFlush();

    /** Hold every later request until {@link #resumeWith}: this one is answered asynchronously. */
    void suspend();

    /** The asynchronous answer is here: write it (null: nothing) and carry on. */
    void resumeWith(byte[] reply);

    /** This request's reply is not complete: {@code rest} writes the rest as the client reads. */
    void continueLater(ProtocolDecoder.Continuation rest);

    /**
     * Runs {@code then} once the writes through the log answered later are answered, holding later
     * requests until then; at once when none waits.
     */
    void runWhenAnswered(Runnable then);
  }

  private static final int RESPONSE_MAGIC = 0x81;
  static final int KEY_MAX_LENGTH = 250;

  /** memcached's "no auto-create" expiry for incr/decr. */
  private static final long NO_CREATE_EXPTIME = 0xFFFF_FFFFL;

  // Bound to the tenant the connection works in ({@link #bind}): the default one's until a login
  // moves it into its user's.
  private ProtocolContext context;
  private KeyspaceSession keys;
  private NodeStats stats;
  private dev.whack.node.durability.DurableLog log;
  private StatsReport statsReport;
  private SegmentOpcodes segments;

  /** The node's statistics: what a connection reads and writes is counted node-wide. */
  private final NodeStats nodeStats;

  private final NodeMetrics metrics;
  private final byte[] version;
  private final Outcome outcome = new Outcome();
  private final dev.whack.node.cluster.Cluster cluster;

  /** Authentication and roles, or null when the node has no auth file. */
  private final BinaryAccess access;

  private ChannelHandlerContext ctx;
  private ReplyBuffer replies;

  public BinaryCommands(ProtocolContext context) {
    this.nodeStats = context.stats();
    this.metrics = context.metrics();
    this.version = context.version().getBytes(StandardCharsets.US_ASCII);
    this.cluster = context.cluster();
    this.access = context.auth() == null ? null : new BinaryAccess(context.auth(), nodeStats, this);
    bind(context);
  }

  /** Binds every request to {@code tenantContext}: its keyspace, engine, statistics and log. */
  private void bind(ProtocolContext tenantContext) {
    this.context = tenantContext;
    this.keys = tenantContext.keyspace().session();
    this.stats = tenantContext.stats();
    this.log = tenantContext.log();
    this.statsReport = tenantContext.statsSource();
    this.segments =
        new SegmentOpcodes(
            this, keys, tenantContext.engine(), stats, tenantContext.watchers(), cluster);
  }

  /**
   * Moves the connection into {@code tenant}, its user's, at its first login: every later request
   * works on that tenant's keyspace only.
   */
  void enter(Tenant tenant) {
    if (tenant.context() != context) {
      if (context.tenant() != null) {
        context.tenant().leave(ctx.channel());
      }
      bind(tenant.context());
      segments.attach(ctx, replies);
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
    segments.attach(ctx, replies);
    if (access != null) {
      access.attach(ctx, replies);
    }
    if (context.tenant() != null) {
      context.tenant().join(ctx.channel());
    }
  }

  @Override
  public void onWritable() {
    segments.onWritable();
  }

  @Override
  public boolean watching() {
    return segments.watching();
  }

  @Override
  public void inputEnded() {
    segments.inputEnded();
  }

  @Override
  public void close() {
    segments.close();
  }

  ReplyBuffer replies() {
    return replies;
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

  /** Checks the header's lengths against the opcode before any of them is believed. */
  void checkShape(BinaryRequest r, Framing framing) {
    if (access != null && access.interceptsHeader(r, framing)) {
      return; // unauthenticated (memcached checks that before the shape), or SASL answered
    }
    int ext = r.extrasLength;
    int key = r.keyLength;
    long body = r.bodyLength;
    if (key > KEY_MAX_LENGTH) {
      protocolError(r, framing);
      return;
    }
    boolean ok;
    switch (r.opcode) {
      case VERSION, NOOP, QUIT, QUITQ -> ok = ext == 0 && key == 0 && body == 0;
      case FLUSH, FLUSHQ -> ok = key == 0 && body == ext && (ext == 0 || ext == 4);
      case SET, SETQ, ADD, ADDQ, REPLACE, REPLACEQ -> ok = ext == 8 && key != 0 && body >= key + 8L;
      case GET, GETQ, GETK, GETKQ -> ok = ext == 0 && key > 0 && body == key;
      case DELETE, DELETEQ -> ok = ext == 0 && key > 0 && body == key;
      case INCREMENT, INCREMENTQ, DECREMENT, DECREMENTQ ->
          ok = ext == 20 && key > 0 && body == key + 20L;
      case APPEND, APPENDQ, PREPEND, PREPENDQ -> ok = ext == 0 && key > 0 && body >= key;
      case STAT -> ok = ext == 0 && body == key;
      case TOUCH, GAT, GATQ, GATK, GATKQ -> ok = ext == 4 && key > 0 && body == key + 4L;
      default -> {
        if (SegmentOpcodes.handles(r.opcode)) {
          ok = SegmentOpcodes.shapeFits(r);
        } else if (access != null && BinaryAccess.isSasl(r.opcode)) {
          ok = true; // Auth and Step, checked by the access (without an auth file: unknown)
        } else {
          stats.protocolErrors.increment();
          error(r, STATUS_UNKNOWN_COMMAND);
          framing.swallow(body);
          return;
        }
      }
    }
    if (!ok) {
      protocolError(r, framing);
    } else if (ext + key == 0) {
      afterKey(r, framing);
    } else {
      framing.readKeyAndExtras();
    }
  }

  void readKeyAndExtras(BinaryRequest r, ByteBuf in) {
    int start = in.readerIndex();
    switch (r.opcode) {
      case SET, SETQ, ADD, ADDQ, REPLACE, REPLACEQ -> {
        r.flags = in.getInt(start);
        r.exptime = in.getUnsignedInt(start + 4);
      }
      case INCREMENT, INCREMENTQ, DECREMENT, DECREMENTQ -> {
        r.delta = in.getLong(start);
        r.initial = in.getLong(start + 8);
        r.exptime = in.getUnsignedInt(start + 16);
      }
      case TOUCH, GAT, GATQ, GATK, GATKQ, FLUSH, FLUSHQ -> r.exptime = in.getUnsignedInt(start);
      case SegmentOpcodes.SEG_MEMBERS, SegmentOpcodes.FILTER_MEMBERS -> r.limit = in.getInt(start);
      case SegmentOpcodes.SEG_DEFINE -> r.limit = r.extrasLength == 4 ? in.getInt(start) : 0;
      case SegmentOpcodes.UPDATE, SegmentOpcodes.UPDATEQ ->
          r.flags = r.extrasLength == 4 ? in.getInt(start) : 0;
      default -> {}
    }
    in.getBytes(start, r.extras, 0, r.extrasLength);
    in.getBytes(start + r.extrasLength, r.key, 0, r.keyLength);
    in.skipBytes(r.extrasLength + r.keyLength);
  }

  /** Key and extras are in; storage commands check their value length, the rest execute. */
  void afterKey(BinaryRequest r, Framing framing) {
    r.forwardTo = null;
    if (access != null && access.interceptsKey(r, framing)) {
      return; // not for this user's role (before any lookup or forwarding), or SASL
    }
    if (cluster.isManaged() && keyed(r.opcode) && cluster.owns(r.key, 0, r.keyLength)) {
      cluster.ensureLocal(r.key, 0, r.keyLength, keys); // a warm copy moving in: this key first
    }
    if (cluster.isManaged()
        && keyed(r.opcode)
        && !throughLog(r.opcode)
        && !Keyspace.isReserved(r.key, 0, r.keyLength)) {
      String why = cluster.notServingBecause(r.key, 0, r.keyLength);
      if (why != null && cluster.owns(r.key, 0, r.keyLength)) {
        // Owned but still being taken over here: fail fast with the reason rather than miss or
        // act on a state not there yet (writes through the log run: they wait for it).
        error(r, STATUS_TEMPORARY_FAILURE, why);
        long length = r.valueLength();
        if (length > 0) {
          framing.swallow(length);
        } else {
          framing.done();
        }
        return;
      }
    }
    if (cluster.isClustered()
        && keyed(r.opcode)
        && !Keyspace.isReserved(r.key, 0, r.keyLength)
        && !cluster.owns(r.key, 0, r.keyLength)) {
      String owner = cluster.ownerOf(r.key, 0, r.keyLength);
      long length = r.valueLength();
      if (length > 0 && length <= Math.max(keys.maxItemSize(), 64 * 1024)) {
        r.forwardTo = owner; // passed on once its value is read
        framing.readValue();
      } else if (length == 0) {
        r.value = EMPTY;
        forward(owner, r, framing);
      } else {
        error(r, STATUS_TOO_LARGE);
        framing.swallow(length);
      }
      return;
    }
    switch (r.opcode) {
      case SET, SETQ, ADD, ADDQ, REPLACE, REPLACEQ, APPEND, APPENDQ, PREPEND, PREPENDQ -> {
        long length = r.valueLength();
        if (stats.prefixes.enabled()) {
          stats.prefixes.recordSet(r.key, 0, r.keyLength);
        }
        if (length > keys.maxItemSize()) {
          stats.countStore(Status.TOO_LARGE);
          boolean set = r.opcode == SET || r.opcode == SETQ;
          if (set && loggedRemoval(r)) {
            // As below, through the log, in order: answered once the removal is applied.
            int opcode = r.opcode;
            int opaque = r.opaque;
            replies.answerLater(
                cluster
                    .updatesLog()
                    .append(r.key, 0, r.keyLength, KeyspaceSession.SourcedKind.DELETE, null, 0, 0),
                (applied, failure) -> error(opcode, opaque, STATUS_TOO_LARGE));
          } else {
            if (set) {
              keys.delete(r.key, 0, r.keyLength, 0);
            }
            error(r, STATUS_TOO_LARGE);
          }
          framing.swallow(length);
        } else if (length == 0) {
          r.value = EMPTY;
          execute(r, framing);
        } else {
          framing.readValue();
        }
      }
      default -> {
        if (SegmentOpcodes.handles(r.opcode) && r.valueLength() > 0) {
          long length = r.valueLength();
          long limit = SegmentOpcodes.maxValueBytes(r.opcode, keys.maxItemSize());
          if (length > limit) {
            error(r, STATUS_TOO_LARGE);
            framing.swallow(length);
          } else {
            framing.readValue();
          }
        } else {
          r.value = EMPTY;
          execute(r, framing);
        }
      }
    }
  }

  private static final byte[] EMPTY = new byte[0];
  private static final byte[] DETAILED = "detailed".getBytes(StandardCharsets.US_ASCII);

  void execute(BinaryRequest r, Framing framing) {
    if (access != null && BinaryAccess.isSasl(r.opcode)) {
      access.sasl(r, framing);
      return;
    }
    if (r.forwardTo != null) {
      String owner = r.forwardTo;
      r.forwardTo = null;
      forward(owner, r, framing);
      return;
    }
    long start = System.nanoTime();
    run(r, framing);
    metrics.recordLatency(family(r.opcode), System.nanoTime() - start);
  }

  private static int family(int opcode) {
    return switch (opcode) {
      case GET, GETQ, GETK, GETKQ -> NodeMetrics.GET;
      case GAT, GATQ, GATK, GATKQ, TOUCH -> NodeMetrics.TOUCH;
      case SET, SETQ, ADD, ADDQ, REPLACE, REPLACEQ, APPEND, APPENDQ, PREPEND, PREPENDQ ->
          NodeMetrics.STORE;
      case DELETE, DELETEQ -> NodeMetrics.DELETE;
      case INCREMENT, INCREMENTQ, DECREMENT, DECREMENTQ -> NodeMetrics.ARITHMETIC;
      case SegmentOpcodes.UPDATE, SegmentOpcodes.UPDATEQ -> NodeMetrics.UPDATE;
      default -> SegmentOpcodes.handles(opcode) ? NodeMetrics.SEGMENT : NodeMetrics.OTHER;
    };
  }

  private void run(BinaryRequest r, Framing framing) {
    switch (r.opcode) {
      case GET, GETQ, GETK, GETKQ -> get(r, false);
      case GAT, GATQ, GATK, GATKQ, TOUCH -> get(r, true);
      case SET, SETQ -> store(r, r.cas != 0 ? StoreMode.CAS : StoreMode.SET, framing);
      case ADD, ADDQ -> store(r, r.cas != 0 ? StoreMode.CAS : StoreMode.ADD, framing);
      case REPLACE, REPLACEQ -> store(r, r.cas != 0 ? StoreMode.CAS : StoreMode.REPLACE, framing);
      case APPEND, APPENDQ -> store(r, StoreMode.APPEND, framing);
      case PREPEND, PREPENDQ -> store(r, StoreMode.PREPEND, framing);
      case DELETE, DELETEQ -> delete(r, framing);
      case INCREMENT, INCREMENTQ -> arithmetic(r, true);
      case DECREMENT, DECREMENTQ -> arithmetic(r, false);
      case FLUSH, FLUSHQ -> {
        stats.cmdFlush.increment();
        keys.flushAll(r.extrasLength == 4 ? r.exptime : 0);
        success(r, 0);
      }
      case NOOP -> respond(r, STATUS_OK, 0, 0, 0, 0);
      case VERSION -> {
        header(r.opcode, STATUS_OK, 0, 0, version.length, r.opaque, 0);
        replies.bytes(version);
      }
      case STAT -> stat(r);
      case QUIT -> {
        respond(r, STATUS_OK, 0, 0, 0, 0);
        framing.closeAfterFlush();
        return;
      }
      case QUITQ -> {
        framing.closeAfterFlush();
        return;
      }
      default -> {
        if (!segments.execute(r, framing)) {
          throw new IllegalStateException("shape check let through opcode " + r.opcode);
        }
      }
    }
    framing.done();
  }

  // ---------------------------------------------------------------------------------------------

  /** Get, GetK, GAT, GATK, Touch and their quiet forms. */
  private void get(BinaryRequest r, boolean touch) {
    int op = r.opcode;
    boolean hit;
    if (touch) {
      stats.cmdTouch.increment();
      hit =
          op == TOUCH
              ? keys.touch(r.key, 0, r.keyLength, r.exptime, outcome)
              : keys.getAndTouch(r.key, 0, r.keyLength, r.exptime, outcome);
      (hit ? stats.touchHits : stats.touchMisses).increment();
    } else {
      hit = keys.get(r.key, 0, r.keyLength, outcome);
    }
    if (op != TOUCH) {
      stats.cmdGet.increment();
      (hit ? stats.getHits : stats.getMisses).increment();
    }
    if (stats.prefixes.enabled()) {
      stats.prefixes.recordGet(r.key, 0, r.keyLength, hit);
    }
    boolean withKey = op == GETK || op == GETKQ || op == GATK || op == GATKQ;
    if (!hit) {
      if (isQuiet(op)) {
        return;
      }
      if (withKey) {
        header(op, STATUS_KEY_NOT_FOUND, r.keyLength, 0, r.keyLength, r.opaque, 0);
        replies.bytes(r.key, 0, r.keyLength);
      } else {
        error(r, STATUS_KEY_NOT_FOUND);
      }
      return;
    }
    byte[] value = op == TOUCH ? EMPTY : outcome.value;
    int keyLength = withKey ? r.keyLength : 0;
    header(op, STATUS_OK, keyLength, 4, 4L + keyLength + value.length, r.opaque, outcome.cas);
    ByteBuf out = replies.out();
    out.writeInt(outcome.flags);
    if (withKey) {
      out.writeBytes(r.key, 0, keyLength);
    }
    out.writeBytes(value);
  }

  /**
   * Whether removing the key must go through a managed cluster's log: it holds something, its slot
   * is still being taken over here, or writes before this one are still going through the log.
   */
  private boolean loggedRemoval(BinaryRequest r) {
    return cluster.updatesLog() != null
        && (replies.answersToCome() > 0
            || WritesThroughLog.ofDelete(cluster, keys, r.key, 0, r.keyLength));
  }

  /**
   * Keyed requests a managed member may send through the log (the others wait for a take-over);
   * forwarded to their owner without holding the connection, as {@link BinaryDecoder} lets them run
   * ahead of answers to come.
   */
  private static boolean throughLog(int opcode) {
    return switch (opcode) {
      case SET, SETQ, DELETE, DELETEQ, SegmentOpcodes.UPDATE, SegmentOpcodes.UPDATEQ -> true;
      default -> false;
    };
  }

  /** Requests routed by their key in a cluster (docs/cluster.md). */
  private static boolean keyed(int opcode) {
    return switch (opcode) {
      case GET,
          GETQ,
          GETK,
          GETKQ,
          SET,
          SETQ,
          ADD,
          ADDQ,
          REPLACE,
          REPLACEQ,
          DELETE,
          DELETEQ,
          INCREMENT,
          INCREMENTQ,
          DECREMENT,
          DECREMENTQ,
          APPEND,
          APPENDQ,
          PREPEND,
          PREPENDQ,
          TOUCH,
          GAT,
          GATQ,
          GATK,
          GATKQ,
          SegmentOpcodes.UPDATE,
          SegmentOpcodes.UPDATEQ,
          SegmentOpcodes.SEG_OF ->
          true;
      default -> false;
    };
  }

  /**
   * Passes the request, rebuilt byte for byte, to the key's owner and copies its response packets
   * back (they carry the client's own opaque), holding later requests until then.
   */
  private void forward(String owner, BinaryRequest r, Framing framing) {
    int body = r.extrasLength + r.keyLength + r.value.length;
    ByteBuf raw = io.netty.buffer.Unpooled.buffer(24 + body);
    raw.writeByte(0x80).writeByte(r.opcode).writeShort(r.keyLength).writeByte(r.extrasLength);
    raw.writeByte(r.dataType).writeShort(0).writeInt(body).writeInt(r.opaque).writeLong(r.cas);
    raw.writeBytes(r.extras, 0, r.extrasLength)
        .writeBytes(r.key, 0, r.keyLength)
        .writeBytes(r.value);
    byte[] request = new byte[raw.readableBytes()];
    raw.readBytes(request);
    if (cluster.updatesLog() != null && throughLog(r.opcode)) {
      byte[] key = java.util.Arrays.copyOf(r.key, r.keyLength);
      framing.done();
      forwardLogged(owner, key, r.opcode, r.opaque, request, framing);
      return;
    }
    framing.done(); // the decoder's next state is a header, once the answer is back
    framing.suspend();
    cluster
        .relayBinary(owner, request)
        .whenComplete(
            (reply, failure) ->
                ctx.executor()
                    .execute(
                        () -> {
                          if (failure == null) {
                            framing.resumeWith(reply);
                          } else {
                            error(
                                r,
                                STATUS_TEMPORARY_FAILURE,
                                ClusterException.unreachableReason(owner, failure));
                            framing.resumeWith(null);
                          }
                        }));
  }

  /**
   * A write forwarded to its owner in a managed cluster, pipelined as the text protocol's are
   * (docs/cluster.md, "Writes through the log"): its answer takes its place in the reply order when
   * it comes, later writes are forwarded meanwhile, and one write per key is on its way at a time,
   * so that none overtakes another of its key; anything else waits for the answers before it.
   */
  private void forwardLogged(
      String owner, byte[] key, int opcode, int opaque, byte[] request, Framing framing) {
    String k = new String(key, StandardCharsets.ISO_8859_1);
    if (!forwardedKeys.add(k)) {
      framing.runWhenAnswered(() -> forwardLogged(owner, key, opcode, opaque, request, framing));
      return;
    }
    replies.answerLater(
        cluster.relayBinaryLogged(owner, request),
        (reply, failure) -> {
          forwardedKeys.remove(k);
          if (failure == null) {
            replies.bytes(reply);
          } else {
            error(
                opcode,
                opaque,
                STATUS_TEMPORARY_FAILURE,
                ClusterException.unreachableReason(owner, failure));
          }
        });
  }

  /** Keys of forwarded writes on their way, not answered yet (the connection's event loop's). */
  private final java.util.Set<String> forwardedKeys = new java.util.HashSet<>();

  private void store(BinaryRequest r, StoreMode mode, Framing framing) {
    boolean concatenation = mode == StoreMode.APPEND || mode == StoreMode.PREPEND;
    UpdatesLog updatesLog = cluster.updatesLog();
    if (updatesLog != null && !concatenation && !Keyspace.isReserved(r.key, 0, r.keyLength)) {
      KeyspaceSession.SourcedKind kind =
          WritesThroughLog.ofSet(cluster, keys, r.key, 0, r.keyLength, r.flags, r.value);
      if (kind != null) {
        if (mode != StoreMode.SET) {
          error(r, STATUS_NOT_STORED, SET_UPDATE_OR_DELETE);
        } else {
          stats.cmdSet.increment();
          throughLog(r, kind, updatesLog);
        }
        return;
      }
    }
    if (replies.answersToCome() > 0) {
      // A write of this node's own, behind writes still going through the log: after them.
      framing.runWhenAnswered(() -> store(r, mode, framing));
      return;
    }
    stats.cmdSet.increment();
    int flags = concatenation ? 0 : r.flags;
    Status status;
    try {
      status =
          keys.store(
              mode, r.key, 0, r.keyLength, flags, r.exptime, r.value, r.cas, false, false, outcome);
    } catch (ProfileRejectedException e) {
      error(r, STATUS_INVALID_ARGUMENTS, e.getMessage());
      return;
    }
    if (status == Status.RESERVED) {
      error(r, STATUS_INVALID_ARGUMENTS, "reserved key");
      return;
    }
    stats.countStore(status);
    if (mode == StoreMode.CAS) {
      switch (status) {
        case STORED -> stats.casHits.increment();
        case EXISTS -> stats.casBadval.increment();
        case NOT_FOUND -> stats.casMisses.increment();
        default -> {}
      }
    }
    switch (status) {
      case STORED -> success(r, outcome.cas);
      case EXISTS -> error(r, STATUS_KEY_EXISTS);
      case NOT_FOUND -> error(r, STATUS_KEY_NOT_FOUND);
      case TOO_LARGE -> error(r, STATUS_TOO_LARGE);
      case IS_PROFILE ->
          error(r, STATUS_INVALID_ARGUMENTS, "cannot append or prepend to a profile");
      default ->
          error(
              r,
              switch (mode) {
                case ADD -> STATUS_KEY_EXISTS;
                case REPLACE -> STATUS_KEY_NOT_FOUND;
                default -> STATUS_NOT_STORED;
              });
    }
  }

  private void delete(BinaryRequest r, Framing framing) {
    UpdatesLog updatesLog = cluster.updatesLog();
    if (updatesLog != null) {
      if (r.cas != 0 && keys.holdsProfile(r.key, 0, r.keyLength)) {
        error(r, STATUS_NOT_STORED, SET_UPDATE_OR_DELETE); // a conditional write of a profile
        return;
      }
      if (r.cas == 0 && WritesThroughLog.ofDelete(cluster, keys, r.key, 0, r.keyLength)) {
        throughLog(r, KeyspaceSession.SourcedKind.DELETE, updatesLog);
        return;
      }
      if (replies.answersToCome() > 0) {
        // Behind writes still going through the log (one may write this key): decided after them.
        framing.runWhenAnswered(() -> delete(r, framing));
        return;
      }
    }
    if (stats.prefixes.enabled()) {
      stats.prefixes.recordDelete(r.key, 0, r.keyLength);
    }
    Status status = keys.delete(r.key, 0, r.keyLength, r.cas);
    switch (status) {
      case DELETED -> {
        stats.deleteHits.increment();
        success(r, 0);
      }
      case EXISTS -> error(r, STATUS_KEY_EXISTS);
      default -> {
        stats.deleteMisses.increment();
        error(r, STATUS_KEY_NOT_FOUND);
      }
    }
  }

  /**
   * Why a Kafka-managed member refuses a conditional write of a profile: the log applies each write
   * whatever the state then, so only set, update and delete go there.
   */
  static final String SET_UPDATE_OR_DELETE =
      "in a Kafka-managed cluster a profile is written only by set, update and delete (they go"
          + " through the updates topic)";

  /**
   * A managed member's profile write (set, delete, update): it goes through the updates log and is
   * answered, in request order, once this member applied it (docs/cluster.md, "Writes through the
   * log").
   */
  void throughLog(BinaryRequest r, KeyspaceSession.SourcedKind kind, UpdatesLog updatesLog) {
    int opcode = r.opcode;
    int opaque = r.opaque;
    byte[] value = kind == KeyspaceSession.SourcedKind.DELETE ? null : r.value;
    if (kind == KeyspaceSession.SourcedKind.DELETE && stats.prefixes.enabled()) {
      stats.prefixes.recordDelete(r.key, 0, r.keyLength);
    }
    replies.answerLater(
        updatesLog.append(r.key, 0, r.keyLength, kind, value, r.flags, r.exptime),
        (applied, failure) -> answerLogged(opcode, opaque, kind, applied, failure));
  }

  private void answerLogged(
      int opcode,
      int opaque,
      KeyspaceSession.SourcedKind kind,
      UpdatesLog.Applied applied,
      Throwable failure) {
    if (failure != null) {
      Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
      error(opcode, opaque, STATUS_TEMPORARY_FAILURE, String.valueOf(cause.getMessage()));
      return;
    }
    if (applied.rejected() != null) {
      error(opcode, opaque, STATUS_INVALID_ARGUMENTS, applied.rejected());
      return;
    }
    Status status = applied.status();
    switch (kind) {
      case DELETE -> {
        if (status == Status.DELETED) {
          stats.deleteHits.increment();
          if (!isQuiet(opcode)) {
            header(opcode, STATUS_OK, 0, 0, 0, opaque, 0);
          }
        } else {
          stats.deleteMisses.increment();
          error(opcode, opaque, STATUS_KEY_NOT_FOUND);
        }
      }
      case UPDATE_JSON, UPDATE_PROTOBUF -> {
        if (status == Status.TOO_LARGE) {
          stats.storeTooLarge.increment();
          error(opcode, opaque, STATUS_TOO_LARGE);
        } else {
          if (status == Status.IGNORED) {
            stats.profileUpdatesIgnored.increment();
          }
          if (opcode == SegmentOpcodes.UPDATE) {
            header(opcode, STATUS_OK, 0, 4, 4, opaque, applied.cas());
            replies.out().writeInt(status == Status.STORED ? 1 : 0);
          }
        }
      }
      default -> {
        stats.countStore(status);
        if (status == Status.STORED || status == Status.IGNORED) {
          if (!isQuiet(opcode)) {
            header(opcode, STATUS_OK, 0, 0, 0, opaque, applied.cas());
          }
        } else if (status == Status.TOO_LARGE) {
          error(opcode, opaque, STATUS_TOO_LARGE);
        } else {
          error(opcode, opaque, STATUS_NOT_STORED);
        }
      }
    }
  }

  /** Increment/Decrement: extras are delta, initial value and expiry (0xffffffff: no create). */
  private void arithmetic(BinaryRequest r, boolean increment) {
    boolean create = r.exptime != NO_CREATE_EXPTIME;
    Status status =
        keys.arithmetic(
            r.key,
            0,
            r.keyLength,
            increment,
            r.delta,
            r.cas,
            create,
            r.initial,
            r.exptime,
            false,
            0,
            false,
            outcome);
    switch (status) {
      case STORED -> {
        (increment ? stats.incrHits : stats.decrHits).increment();
        if (!isQuiet(r.opcode)) {
          header(r.opcode, STATUS_OK, 0, 0, 8, r.opaque, outcome.cas);
          replies.out().writeLong(outcome.number);
        }
      }
      case NOT_FOUND -> {
        (increment ? stats.incrMisses : stats.decrMisses).increment();
        error(r, STATUS_KEY_NOT_FOUND);
      }
      case EXISTS -> error(r, STATUS_KEY_EXISTS);
      case NON_NUMERIC -> error(r, STATUS_NON_NUMERIC);
      case IS_PROFILE ->
          error(r, STATUS_INVALID_ARGUMENTS, "cannot increment or decrement a profile");
      default -> error(r, STATUS_NOT_STORED);
    }
  }

  /** Stat: one response per statistic, key = name and value = value, then an empty one. */
  private void stat(BinaryRequest r) {
    String group = new String(r.key, 0, r.keyLength, StandardCharsets.US_ASCII);
    if (group.equals("reset")) {
      stats.reset();
    } else if (group.startsWith("detail")) {
      if (!statDetail(r, group.substring("detail".length()))) {
        error(r, STATUS_KEY_NOT_FOUND);
        return;
      }
    } else {
      boolean known =
          statsReport.write(
              group,
              (name, value) -> {
                byte[] n = name.getBytes(StandardCharsets.US_ASCII);
                byte[] v = value.getBytes(StandardCharsets.US_ASCII);
                header(r.opcode, STATUS_OK, n.length, 0, (long) n.length + v.length, r.opaque, 0);
                replies.bytes(n).bytes(v);
              });
      if (!known) {
        error(r, STATUS_KEY_NOT_FOUND);
        return;
      }
    }
    header(r.opcode, STATUS_OK, 0, 0, 0, r.opaque, 0);
  }

  /**
   * The Stat keys "detail on", "detail off" and "detail dump", read as memcached reads them (by
   * prefix, so "detail only" is "detail on"); a dump is one statistic named "detailed" whose value
   * is the text protocol's dump, END line included. False for any other detail key.
   */
  private boolean statDetail(BinaryRequest r, String command) {
    if (command.startsWith(" dump")) {
      byte[] dump = stats.prefixes.dump();
      long body = (long) DETAILED.length + dump.length;
      header(r.opcode, STATUS_OK, DETAILED.length, 0, body, r.opaque, 0);
      replies.bytes(DETAILED).bytes(dump);
    } else if (command.startsWith(" on")) {
      stats.prefixes.enable(true);
    } else if (command.startsWith(" off")) {
      stats.prefixes.enable(false);
    } else {
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------------

  private void success(BinaryRequest r, long cas) {
    if (!isQuiet(r.opcode)) {
      header(r.opcode, STATUS_OK, 0, 0, 0, r.opaque, cas);
    }
  }

  private void respond(
      BinaryRequest r, int status, int keyLength, int extrasLength, long body, long cas) {
    header(r.opcode, status, keyLength, extrasLength, body, r.opaque, cas);
  }

  /** Errors are answered even for quiet opcodes, with memcached's message as the body. */
  void error(BinaryRequest r, int status) {
    error(r.opcode, r.opaque, status);
  }

  /** As {@link #error(BinaryRequest, int)}, for a request answered after it was read. */
  void error(int opcode, int opaque, int status) {
    stats.protocolErrors.increment();
    byte[] message = Opcodes.errorMessage(status).getBytes(StandardCharsets.US_ASCII);
    header(opcode, status, 0, 0, message.length, opaque, 0);
    replies.bytes(message);
  }

  /** An error whose body is a reason of Whack's own rather than memcached's fixed message. */
  void error(BinaryRequest r, int status, String reason) {
    error(r.opcode, r.opaque, status, reason);
  }

  /** As {@link #error(BinaryRequest, int, String)}, for a request answered after it was read. */
  void error(int opcode, int opaque, int status, String reason) {
    stats.protocolErrors.increment();
    byte[] message = reason.getBytes(StandardCharsets.UTF_8);
    header(opcode, status, 0, 0, message.length, opaque, 0);
    replies.bytes(message);
  }

  /** A request whose lengths do not fit its opcode: "Invalid arguments", then close. */
  private void protocolError(BinaryRequest r, Framing framing) {
    error(r, STATUS_INVALID_ARGUMENTS);
    framing.closeAfterFlush();
  }

  void header(
      int opcode,
      int status,
      int keyLength,
      int extrasLength,
      long bodyLength,
      int opaque,
      long cas) {
    writeHeader(replies.out(), opcode, status, keyLength, extrasLength, bodyLength, opaque, cas);
  }

  static void writeHeader(
      ByteBuf out,
      int opcode,
      int status,
      int keyLength,
      int extrasLength,
      long bodyLength,
      int opaque,
      long cas) {
    out.writeByte(RESPONSE_MAGIC);
    out.writeByte(opcode);
    out.writeShort(keyLength);
    out.writeByte(extrasLength);
    out.writeByte(0);
    out.writeShort(status);
    out.writeInt((int) bodyLength);
    out.writeInt(opaque);
    out.writeLong(cas);
  }
}
