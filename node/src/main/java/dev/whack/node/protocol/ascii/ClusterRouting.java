package dev.whack.node.protocol.ascii;

import static dev.whack.node.protocol.ascii.AsciiCommands.ascii;
import static java.nio.charset.StandardCharsets.ISO_8859_1;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.cluster.ClusterException;
import dev.whack.node.cluster.ClusterSegments;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.protocol.ProtocolDecoder;
import dev.whack.node.protocol.ReplyBuffer;
import io.netty.channel.ChannelHandlerContext;
import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Forwarding of keyed text commands to the member that owns the key (docs/cluster.md), so that a
 * plain memcached client can talk to any node. A command for a key another member owns is passed to
 * it unchanged (through {@link Cluster#relay}) and its answer copied back; the connection holds its
 * later commands until then, so replies stay in request order. A multi-key get is split by owner
 * and its values merged back in the order the keys were asked for.
 *
 * <p>Concurrency: one per connection; relay answers are written on the connection's event loop.
 */
final class ClusterRouting {
  private static final byte[] END = ascii("END\r\n");
  private static final byte[] CRLF = ascii("\r\n");
  private static final Set<String> KEYED =
      Set.of(
          "set", "add", "replace", "append", "prepend", "cas", "delete", "incr", "decr", "touch",
          "update", "segof", "mg", "ms", "md", "ma", "me");

  /** Keyed commands a managed member may send through the log (the others wait for a take-over). */
  private static final Set<String> THROUGH_LOG = Set.of("set", "update", "delete");

  private static final Set<String> WITH_DATA =
      Set.of("set", "add", "replace", "append", "prepend", "cas", "ms", "update");

  private static final byte[] READER_PREFIX = "reader ".getBytes(ISO_8859_1);
  private static final byte[] LINE_TOO_LONG = "CLIENT_ERROR line too long\r\n".getBytes(ISO_8859_1);
  private static final byte[] TOO_MANY_TOKENS =
      "CLIENT_ERROR too many tokens\r\n".getBytes(ISO_8859_1);

  private final Cluster cluster;
  private final java.util.function.BooleanSupplier mayWin;
  private final KeyspaceSession keyspace;
  private final Outcome outcome = new Outcome();
  private final ClusterSegments segments;
  private ChannelHandlerContext ctx;
  private ReplyBuffer replies;

  /** The owner the pending storage command goes to, once its data block is in. */
  private String pendingOwner;

  /** Its key, and whether it is a write the owner may send through a managed cluster's log. */
  private byte[] pendingKey;

  private boolean pendingLogged;
  private boolean pendingNoreply;

  ClusterRouting(
      Cluster cluster,
      KeyspaceSession keyspace,
      ProfileEngine engine,
      java.util.function.BooleanSupplier mayWin) {
    this.cluster = cluster;
    this.keyspace = keyspace;
    this.mayWin = mayWin;
    this.segments = cluster.isClustered() ? new ClusterSegments(cluster, engine, keyspace) : null;
  }

  void attach(ChannelHandlerContext ctx, ReplyBuffer replies) {
    this.ctx = ctx;
    this.replies = replies;
  }

  boolean clustered() {
    return cluster.isClustered();
  }

  /**
   * Routes a command line: forwards it if its key belongs elsewhere (true: handled), or notes the
   * owner of a storage command whose data block is still to come (false: parse it as usual).
   */
  boolean routeLine(AsciiLine line, AsciiCommands.Framing framing) {
    pendingOwner = null;
    if (line.tokenCount < 2) {
      return false;
    }
    String command = line.token(0);
    switch (command) {
      case "get", "gets" -> {
        return routeRetrieval(line, 1, framing);
      }
      case "gat", "gats" -> {
        return line.tokenCount > 2 && routeRetrieval(line, 2, framing);
      }
      default -> {}
    }
    if (line.moreTokens || !KEYED.contains(command)) {
      return false;
    }
    byte[] key = routingKey(line);
    if (key == null) {
      return false;
    }
    if (cluster.owns(key, 0, key.length)) {
      cluster.ensureLocal(key, 0, key.length, keyspace); // a warm copy moving in: this key first
      // While its slot is read from the log, only writes that go there may run: anything else
      // would read or change a state that is not there yet.
      // (A command with a data block is left to run: its block is still to be read.)
      return !THROUGH_LOG.contains(command)
          && !WITH_DATA.contains(command)
          && refusedWhileTakingOver(key);
    }
    String owner = cluster.ownerOf(key, 0, key.length);
    if (WITH_DATA.contains(command)) {
      pendingOwner = owner; // forwarded with its data block, once that is read
      pendingKey = key;
      pendingLogged = command.equals("set") || command.equals("update");
      pendingNoreply = noreply(line);
      return false;
    }
    boolean asReader = command.equals("mg") && !mayWin.getAsBoolean();
    if (asReader && line.tokenCount >= AsciiLine.MAX_TOKENS) {
      // "reader" is one token more: the owner would split off the last flag and never see it.
      replies.bytes(TOO_MANY_TOKENS);
      return true;
    }
    // The owner runs it as this member's user, who may write: "reader" keeps a read user's mg from
    // taking a stale item's win token there.
    byte[] raw = asReader ? readerLineBytes(line) : lineBytes(line);
    if (raw.length - 1 > AsciiDecoder.MAX_LINE_BYTES) {
      // The owner would refuse it and close the connection every relayed request shares: refused
      // here instead, as the owner would word it.
      replies.bytes(LINE_TOO_LONG);
      return true;
    }
    if (command.equals("delete") && cluster.updatesLog() != null) {
      forwardLogged(owner, key, raw, noreply(line), framing);
    } else {
      forward(owner, raw, framing);
    }
    return true;
  }

  /**
   * A write that the owner sends through a managed cluster's log, forwarded without holding the
   * connection: its answer takes its place in the reply order when it comes, and later writes are
   * forwarded meanwhile (each key's on one connection, so in order); anything else waits for the
   * answers before it (ProtocolDecoder), so a client still reads what it wrote.
   */
  private void forwardLogged(
      String owner, byte[] key, byte[] raw, boolean noreply, AsciiCommands.Framing framing) {
    String k = new String(key, ISO_8859_1);
    if (!forwardedKeys.add(k)) {
      // One write per key on its way at a time: the next waits for its answer, so a change of
      // connection or owner meanwhile cannot reorder them.
      framing.runWhenAnswered(() -> forwardLogged(owner, key, raw, noreply, framing));
      return;
    }
    replies.answerLater(
        cluster.relayInKeyOrder(owner, key, raw),
        (reply, error) -> {
          forwardedKeys.remove(k);
          if (error == null) {
            replies.bytes(reply);
          } else if (!noreply) {
            replies.bytes(unreachable(owner, error)); // noreply: not even errors, as memcached
          }
        });
  }

  /** Keys of forwarded writes through the log on their way, not answered yet. */
  private final Set<String> forwardedKeys = new java.util.HashSet<>();

  private static final byte[] NOREPLY = ascii("noreply");

  private static boolean noreply(AsciiLine line) {
    return line.tokenCount > 2 && line.tokenEquals(line.tokenCount - 1, NOREPLY);
  }

  /** A storage command's block has arrived: forward both if the key is elsewhere. */
  boolean routeData(
      AsciiLine line, byte[] data, boolean terminated, AsciiCommands.Framing framing) {
    String owner = pendingOwner;
    pendingOwner = null;
    if (owner == null || !terminated) {
      return false;
    }
    ByteArrayOutputStream raw = new ByteArrayOutputStream(line.length + data.length + 4);
    raw.writeBytes(lineBytes(line));
    raw.writeBytes(data);
    raw.writeBytes(CRLF);
    if (pendingLogged && cluster.updatesLog() != null) {
      forwardLogged(owner, pendingKey, raw.toByteArray(), pendingNoreply, framing);
    } else {
      forward(owner, raw.toByteArray(), framing);
    }
    return true;
  }

  /**
   * The key a command routes by: token 1, decoded as the owner will decode it when a meta command
   * says {@code b} ({@code me} only reads a third token that is exactly {@code b}).
   */
  private static byte[] routingKey(AsciiLine line) {
    if (line.tokenLength(0) == 2 && line.tokenByte(0, 0) == 'm') {
      int last = line.tokenByte(0, 1) == 'e' ? Math.min(line.tokenCount, 3) : line.tokenCount;
      for (int i = 2; i < last; i++) {
        if (line.tokenLength(i) == 1 && line.tokenByte(i, 0) == 'b') {
          // null: a key memcached cannot decode, answered locally with its error
          return Base64Key.decode(line.bytes, line.tokenStart[1], line.tokenLength(1));
        }
      }
    }
    return Arrays.copyOfRange(line.bytes, line.tokenStart[1], line.tokenEnd[1]);
  }

  /** The command as {@code reader <command>}, unless it came so already. */
  private static byte[] readerLineBytes(AsciiLine line) {
    byte[] raw = lineBytes(line);
    int first = 0;
    while (first < raw.length && raw[first] == ' ') {
      first++;
    }
    if (Arrays.equals(
        raw,
        first,
        Math.min(raw.length, first + READER_PREFIX.length),
        READER_PREFIX,
        0,
        READER_PREFIX.length)) {
      return raw; // relayed to this member as "reader mg ...": the prefix is in its bytes still
    }
    byte[] out = new byte[READER_PREFIX.length + raw.length];
    System.arraycopy(READER_PREFIX, 0, out, 0, READER_PREFIX.length);
    System.arraycopy(raw, 0, out, READER_PREFIX.length, raw.length);
    return out;
  }

  private static byte[] lineBytes(AsciiLine line) {
    byte[] out = Arrays.copyOf(line.bytes, line.length + 2);
    out[line.length] = '\r';
    out[line.length + 1] = '\n';
    return out;
  }

  private void forward(String owner, byte[] raw, AsciiCommands.Framing framing) {
    framing.suspend();
    cluster
        .relay(owner, raw)
        .whenComplete(
            (reply, error) ->
                ctx.executor()
                    .execute(
                        () ->
                            framing.resumeWith(error == null ? reply : unreachable(owner, error))));
  }

  /**
   * A get/gets/gat/gats whose keys are not all this node's: each owner is asked for its keys and
   * the values are written in the order the keys were asked for.
   */
  private boolean routeRetrieval(AsciiLine line, int firstKey, AsciiCommands.Framing framing) {
    // A multi-get may hold more keys than the line tokenizer splits: scan the whole line.
    String rest =
        new String(
            line.bytes,
            line.tokenStart[firstKey],
            line.length - line.tokenStart[firstKey],
            ISO_8859_1);
    List<String> keys = new ArrayList<>();
    for (String key : rest.split(" ")) {
      if (!key.isEmpty()) {
        keys.add(key);
      }
    }
    if (keys.size() == 1 && firstKey == 1) {
      byte[] only = keys.get(0).getBytes(ISO_8859_1);
      if (Keyspace.isReserved(only, 0, only.length)) {
        return routeVirtual(keys.get(0), line.token(0).equals("gets"), framing);
      }
    }
    boolean anyRemote = false;
    boolean answeredHere = false;
    for (String key : keys) {
      byte[] k = key.getBytes(ISO_8859_1);
      if (k.length > AsciiCommands.KEY_MAX_LENGTH || Keyspace.isReserved(k, 0, k.length)) {
        answeredHere = true; // errors and virtual keys are answered here (after the moves below)
        continue;
      }
      boolean mine = cluster.owns(k, 0, k.length);
      if (mine) {
        cluster.ensureLocal(k, 0, k.length, keyspace);
        if (refusedWhileTakingOver(k)) {
          return true;
        }
      }
      anyRemote |= !mine;
    }
    if (answeredHere) {
      return false;
    }
    if (!anyRemote) {
      return false;
    }
    String command = line.token(0);
    String prefix = firstKey == 2 ? command + " " + line.token(1) : command;
    Long touchExptime = firstKey == 2 ? parseExptime(line.token(1)) : null;
    framing.continueLater(
        new ClusterRetrieval(keys, prefix, command.endsWith("s"), touchExptime, framing));
    return true;
  }

  /**
   * A clustered multi-get answered window by window, so that what one request holds stays bounded:
   * the owners are asked for the remote keys of a window of consecutive keys, and the window's
   * values (this node's read when they are written) are written in key order, in pieces as the
   * client reads, before the next window is asked for. A window holds at most {@link #WINDOW_BYTES}
   * of the largest values an owner may answer with.
   */
  private final class ClusterRetrieval implements ProtocolDecoder.Continuation {
    /** What a window's answers may hold, at most: a window has this over the item limit keys. */
    private static final long WINDOW_BYTES = 16L * 1024 * 1024;

    private final List<String> keys;
    private final String prefix;
    private final boolean withCas;
    private final Long touchExptime;
    private final AsciiCommands.Framing framing;
    private final int windowKeys;

    /** The next key to write, and the end of the window asked for (next == end: none asked). */
    private int next;

    private int windowEnd;
    private final Map<String, ArrayDeque<byte[]>> remoteValues = new HashMap<>();
    private byte[] failure;

    ClusterRetrieval(
        List<String> keys,
        String prefix,
        boolean withCas,
        Long touchExptime,
        AsciiCommands.Framing framing) {
      this.keys = keys;
      this.prefix = prefix;
      this.withCas = withCas;
      this.touchExptime = touchExptime;
      this.framing = framing;
      this.windowKeys = (int) Math.max(1, WINDOW_BYTES / (keyspace.maxItemSize() + 1024L));
    }

    @Override
    public boolean proceed() {
      while (true) {
        if (failure != null) {
          replies.bytes(failure);
          return true;
        }
        if (next == windowEnd) {
          if (next == keys.size()) {
            replies.bytes(END);
            return true;
          }
          if (askForWindow()) {
            return false; // written when the owners have answered
          }
        }
        while (next < windowEnd) {
          String key = keys.get(next++);
          byte[] k = key.getBytes(ISO_8859_1);
          byte[] block;
          if (cluster.owns(k, 0, k.length)) {
            block = localValue(k, touchExptime, withCas);
          } else {
            ArrayDeque<byte[]> queue = remoteValues.get(key);
            block = queue == null ? null : queue.poll();
          }
          if (block != null) {
            replies.bytes(block);
            if (replies.endOfPiece()) {
              return false;
            }
          }
        }
      }
    }

    /** Opens the next window; true if its owners were asked (the connection waits for them). */
    private boolean askForWindow() {
      windowEnd = Math.min(keys.size(), next + windowKeys);
      remoteValues.clear();
      Map<String, List<String>> remote = new LinkedHashMap<>();
      for (String key : keys.subList(next, windowEnd)) {
        byte[] k = key.getBytes(ISO_8859_1);
        if (!cluster.owns(k, 0, k.length)) {
          remote.computeIfAbsent(cluster.ownerOf(k, 0, k.length), o -> new ArrayList<>()).add(key);
        }
      }
      if (remote.isEmpty()) {
        return false;
      }
      List<String> owners = new ArrayList<>(remote.keySet());
      List<CompletableFuture<byte[]>> asks = new ArrayList<>();
      for (String owner : owners) {
        String request = prefix + " " + String.join(" ", remote.get(owner)) + "\r\n";
        asks.add(cluster.relay(owner, request.getBytes(ISO_8859_1)));
      }
      framing.suspend();
      CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
          .whenComplete(
              (ignored, error) ->
                  ctx.executor()
                      .execute(
                          () -> {
                            if (error != null) {
                              failure = unreachable(failedOwner(owners, asks), error);
                            } else {
                              try {
                                for (CompletableFuture<byte[]> ask : asks) {
                                  byte[] refused = splitValues(ask.join(), remoteValues);
                                  if (refused != null && failure == null) {
                                    // The owner's own error (its slot being taken over, say):
                                    // the client hears it, never a miss in its place.
                                    failure = refused;
                                  }
                                }
                              } catch (RuntimeException unreadable) {
                                // an answer that is not a get reply; the connection must go on
                                failure = unreachable(owners.get(0), unreadable);
                              }
                            }
                            framing.resumeWith(null);
                          }));
      return true;
    }
  }

  /**
   * A plain client's segment question ({@code get _whack/...}) answered for the cluster: sizes and
   * counts summed over the members, membership questions by the key's owner.
   */
  private boolean routeVirtual(String key, boolean withCas, AsciiCommands.Framing framing) {
    String path = key.substring(Keyspace.RESERVED_PREFIX.length());
    int slash = path.indexOf('/');
    if (slash < 0) {
      return false;
    }
    String kind = path.substring(0, slash);
    String rest;
    try {
      rest = java.net.URLDecoder.decode(path.substring(slash + 1).replace("+", "%2B"), ISO_8859_1);
    } catch (IllegalArgumentException badEscape) {
      return false;
    }
    CompletableFuture<byte[]> answer;
    switch (kind) {
      case "size", "count" -> {
        String query =
            new String(rest.getBytes(ISO_8859_1), java.nio.charset.StandardCharsets.UTF_8);
        // A refused query is a miss, as on one node; so is a member that could not answer.
        answer =
            segments
                .count(kind.equals("count"), query)
                .handle((n, error) -> error == null ? countAsValue(key, n, withCas) : END);
      }
      case "in", "of" -> {
        String profileKey = kind.equals("in") ? rest.substring(rest.indexOf('/') + 1) : rest;
        byte[] k = profileKey.getBytes(ISO_8859_1);
        if (rest.indexOf('/') < 0 && kind.equals("in") || cluster.owns(k, 0, k.length)) {
          return false; // this node holds the profile: answered here
        }
        answer =
            cluster.relay(
                cluster.ownerOf(k, 0, k.length),
                ("local " + (withCas ? "gets " : "get ") + key + "\r\n").getBytes(ISO_8859_1));
      }
      default -> {
        return false;
      }
    }
    framing.suspend();
    answer.whenComplete(
        (reply, error) ->
            ctx.executor()
                .execute(
                    () ->
                        framing.resumeWith(
                            error == null ? reply : unreachable("a member", error))));
    return true;
  }

  /** The count as the virtual key's value. */
  private static byte[] countAsValue(String key, long count, boolean withCas) {
    String n = Long.toString(count);
    return ("VALUE "
            + key
            + " 0 "
            + n.length()
            + (withCas ? " 0" : "")
            + "\r\n"
            + n
            + "\r\nEND\r\n")
        .getBytes(ISO_8859_1);
  }

  private static Long parseExptime(String token) {
    try {
      return Long.parseLong(token);
    } catch (NumberFormatException e) {
      return 0L;
    }
  }

  /** This node's "VALUE ..." block for a key it owns, or null on a miss. */
  private byte[] localValue(byte[] key, Long touchExptime, boolean withCas) {
    boolean hit =
        touchExptime == null
            ? keyspace.get(key, 0, key.length, outcome)
            : keyspace.getAndTouch(key, 0, key.length, touchExptime, outcome);
    if (!hit) {
      return null;
    }
    byte[] value = outcome.value;
    String header =
        "VALUE "
            + new String(key, ISO_8859_1)
            + " "
            + Integer.toUnsignedString(outcome.flags)
            + " "
            + value.length
            + (withCas ? " " + outcome.cas : "")
            + "\r\n";
    ByteArrayOutputStream block = new ByteArrayOutputStream(header.length() + value.length + 2);
    block.writeBytes(header.getBytes(ISO_8859_1));
    block.writeBytes(value);
    block.writeBytes(CRLF);
    return block.toByteArray();
  }

  /**
   * Splits a relayed get reply into its VALUE blocks, by key; returns the owner's error line if it
   * answered one instead (null when it answered values and END).
   */
  private static byte[] splitValues(byte[] reply, Map<String, ArrayDeque<byte[]>> values) {
    int pos = 0;
    while (pos < reply.length) {
      int eol = indexOf(reply, pos, (byte) '\n');
      if (eol < 0) {
        return null;
      }
      String line = new String(reply, pos, eol + 1 - pos, ISO_8859_1).trim();
      if (line.equals("END")) {
        return null;
      }
      if (!line.startsWith("VALUE ")) {
        return Arrays.copyOfRange(reply, pos, eol + 1); // the owner refused: its error line
      }
      String[] t = line.split(" ");
      int end = eol + 1 + Integer.parseInt(t[3]) + 2;
      values
          .computeIfAbsent(t[1], x -> new ArrayDeque<>())
          .add(Arrays.copyOfRange(reply, pos, end));
      pos = end;
    }
    return null;
  }

  private static int indexOf(byte[] b, int from, byte value) {
    for (int i = from; i < b.length; i++) {
      if (b[i] == value) {
        return i;
      }
    }
    return -1;
  }

  private static String failedOwner(List<String> owners, List<CompletableFuture<byte[]>> asks) {
    for (int i = 0; i < asks.size(); i++) {
      if (asks.get(i).isCompletedExceptionally()) {
        return owners.get(i);
      }
    }
    return owners.get(0);
  }

  /**
   * A command on a key this member owns but is still taking over (its slot read from the log) fails
   * fast with the reason rather than missing or acting on a state not there yet: true when
   * answered.
   */
  private boolean refusedWhileTakingOver(byte[] key) {
    String why = cluster.notServingBecause(key, 0, key.length);
    if (why == null) {
      return false;
    }
    replies.bytes(ascii("SERVER_ERROR " + why + "\r\n"));
    return true;
  }

  /** "SERVER_ERROR <owner> is down" (or why the forward failed), one line. */
  static byte[] unreachable(String owner, Throwable error) {
    String why = ClusterException.unreachableReason(owner, error);
    return ascii("SERVER_ERROR " + why.replaceAll("[\\r\\n]", " ") + "\r\n");
  }
}
