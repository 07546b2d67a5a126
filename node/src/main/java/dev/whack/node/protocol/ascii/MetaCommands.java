package dev.whack.node.protocol.ascii;

import static dev.whack.node.protocol.ascii.AsciiCommands.KEY_MAX_LENGTH;
import static dev.whack.node.protocol.ascii.AsciiCommands.ascii;

import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.MetaGetOptions;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.keyspace.ProfileRejectedException;
import dev.whack.node.keyspace.Status;
import dev.whack.node.keyspace.StoreMode;
import dev.whack.node.observability.NodeMetrics;
import dev.whack.node.observability.NodeStats;
import dev.whack.node.protocol.ProtocolContext;
import dev.whack.node.protocol.ReplyBuffer;
import java.util.Arrays;

/**
 * The meta commands ({@code mg ms md ma mn me}) as memcached 1.6 implements them: "<cm> <key>
 * <datalen*> <flag1> <flag2> <...>\r\n", flags are single characters with optional tokens, return
 * flags come back in the order they were asked for, and "Errors are always returned" even with
 * {@code q}.
 *
 * <p>Concurrency: one per connection, on that connection's event loop.
 */
final class MetaCommands {
  private static final int MAX_OPAQUE_LENGTH = 32;

  private static final byte[] HD = ascii("HD");
  private static final byte[] VA = ascii("VA ");
  private static final byte[] EN = ascii("EN\r\n");
  private static final byte[] EN_NO_CRLF = ascii("EN");
  private static final byte[] NF = ascii("NF");
  private static final byte[] NS = ascii("NS");
  private static final byte[] EX = ascii("EX");
  private static final byte[] MN = ascii("MN\r\n");
  private static final byte[] ME = ascii("ME ");
  private static final byte[] CRLF = ascii("\r\n");
  private static final byte[] INVALID_FLAG = ascii("CLIENT_ERROR invalid flag\r\n");
  private static final byte[] DUPLICATE_FLAG = ascii("CLIENT_ERROR duplicate flag\r\n");
  private static final byte[] BAD_TOKEN =
      ascii("CLIENT_ERROR bad token in command line format\r\n");
  private static final byte[] BAD_KEY = ascii("CLIENT_ERROR error decoding key\r\n");
  private static final byte[] OPAQUE_TOO_LONG = ascii("CLIENT_ERROR opaque token too long\r\n");
  private static final byte[] BAD_MODE_LENGTH =
      ascii("CLIENT_ERROR incorrect length for M token\r\n");
  private static final byte[] INVALID_MODE = ascii("CLIENT_ERROR invalid mode for ms M token\r\n");

  /** md and ma in memcached 1.6 answer every flag error but a long opaque with this one. */
  private static final byte[] INVALID_OR_DUPLICATE =
      ascii("CLIENT_ERROR invalid or duplicate flag\r\n");

  private static final byte[] INVALID_ARITH_MODE =
      ascii("CLIENT_ERROR invalid mode for ma M token\r\n");
  private static final byte[] INVALID_INITIAL =
      ascii("CLIENT_ERROR invalid numeric initial value\r\n");
  private static final byte[] INVALID_DELTA = ascii("CLIENT_ERROR invalid numeric delta value\r\n");

  private final KeyspaceSession keys;
  private final NodeStats stats;
  private final AsciiNumbers numbers;
  private final Outcome outcome;
  private final MetaGetOptions getOptions = new MetaGetOptions();
  private ReplyBuffer replies;

  // Flags of the current command, parsed once by parseFlags.
  private final boolean[] seen = new boolean[128];
  private int firstFlag;

  /** The last flag error that came with a message, as memcached keeps its {@code errstr}. */
  private byte[] errorReply;

  /** A flag failed without a message of its own ({@code F}): memcached's default error. */
  private boolean flagFailed;

  /** Checked by memcached only once the flags parsed: reported when nothing else failed. */
  private boolean opaqueTooLong;

  private boolean base64Key;
  private byte[] keyBytes;
  private int keyOffset;
  private int keyLength;
  private boolean noreply;
  private boolean returnValue;
  private boolean noUpdate;
  private boolean invalidate;
  private boolean vivify;
  private long vivifyExptime;
  private boolean touch;
  private long touchExptime;
  private boolean recache;
  private long recacheSeconds;
  private boolean hasCompareCas;
  private long compareCas;
  private long clientFlags;
  private byte mode;
  private long initial;
  private long delta;

  // ms waiting for its data block.
  private boolean awaitingData;
  private int lastFamily;

  /** Whether the connection's role may write, so may win a stale item's recache token. */
  private final java.util.function.BooleanSupplier mayWin;

  MetaCommands(
      ProtocolContext context,
      KeyspaceSession keys,
      AsciiNumbers numbers,
      Outcome outcome,
      java.util.function.BooleanSupplier mayWin) {
    this.keys = keys;
    this.mayWin = mayWin;
    this.stats = context.stats();
    this.numbers = numbers;
    this.outcome = outcome;
    this.managed = context.cluster().isManaged();
  }

  /** A Kafka-managed cluster's member: profiles are written only through the log. */
  private final boolean managed;

  void attach(ReplyBuffer replies) {
    this.replies = replies;
  }

  boolean awaitingData() {
    return awaitingData;
  }

  /** Runs a two-letter command starting with 'm'; false if it is not a meta command. */
  boolean onLine(AsciiLine line, AsciiCommands.Framing framing) {
    awaitingData = false;
    byte second = line.tokenByte(0, 1);
    switch (second) {
      case 'g' -> {
        metaGet(line);
        lastFamily = touch ? NodeMetrics.TOUCH : NodeMetrics.GET;
      }
      case 's' -> {
        metaSetLine(line, framing);
        lastFamily = NodeMetrics.STORE;
      }
      case 'd' -> {
        metaDelete(line);
        lastFamily = NodeMetrics.DELETE;
      }
      case 'a' -> {
        metaArithmetic(line);
        lastFamily = NodeMetrics.ARITHMETIC;
      }
      case 'n' -> {
        replies.bytes(MN);
        lastFamily = NodeMetrics.OTHER;
      }
      case 'e' -> {
        metaDebug(line);
        lastFamily = NodeMetrics.OTHER;
      }
      default -> {
        return false;
      }
    }
    return true;
  }

  /** The latency family of the command {@link #onLine} just ran. */
  int lastFamily() {
    return lastFamily;
  }

  // ---------------------------------------------------------------------------------------------
  // mg

  /** "mg <key> <flags>*\r\n". */
  private void metaGet(AsciiLine line) {
    if (!startKeyed(line, false)) {
      return;
    }
    stats.cmdMeta.increment();
    stats.cmdGet.increment();
    MetaGetOptions options = getOptions.reset();
    options.bump = !noUpdate;
    options.touch = touch;
    options.touchExptime = touchExptime;
    options.vivify = vivify;
    options.vivifyExptime = vivifyExptime;
    options.recache = recache;
    options.recacheThresholdSeconds = recacheSeconds;
    options.mayWin = mayWin.getAsBoolean();
    long ttlBefore = ttlBeforeTouch(line);
    if (!keys.metaGet(keyBytes, keyOffset, keyLength, options, outcome)) {
      stats.getMisses.increment();
      if (!noreply) {
        // "EN" carries the request's own key and opaque back, as memcached 1.6 does.
        replies.bytes(EN_NO_CRLF);
        writeKeyAndOpaque(line);
        replies.bytes(CRLF);
      }
      return;
    }
    byte[] value = outcome.value;
    stats.getHits.increment();
    if (touch) {
      stats.cmdTouch.increment();
      stats.touchHits.increment();
    }
    if (returnValue) {
      replies.bytes(VA).unsignedDecimal(value.length);
    } else {
      replies.bytes(HD);
    }
    boolean touched = false;
    for (int i = firstFlag; i < line.tokenCount; i++) {
      switch (line.tokenByte(i, 0)) {
        case 'T' -> touched = true;
        case 's' -> replies.bytes(SPACE_S).unsignedDecimal(value.length);
        case 't' -> {
          replies.bytes(SPACE_T);
          long ttl = touched || ttlBefore == NO_TTL_SNAPSHOT ? outcome.ttlSeconds : ttlBefore;
          replies.decimal(ttl);
        }
        case 'c' -> replies.bytes(SPACE_C).unsignedDecimal(outcome.cas);
        case 'f' -> replies.bytes(SPACE_F).unsignedDecimal(outcome.flags & 0xFFFF_FFFFL);
        case 'l' -> replies.bytes(SPACE_L).unsignedDecimal(outcome.secondsSinceAccess);
        case 'h' -> replies.bytes(SPACE_H).ascii(outcome.fetchedBefore ? '1' : '0');
        case 'O' -> echoToken(line, i);
        case 'k' -> echoStoredKey(line);
        default -> {}
      }
    }
    if (outcome.winTokenAlreadySent) {
      replies.bytes(SPACE_Z);
    }
    if (outcome.stale) {
      replies.bytes(SPACE_X);
    }
    if (outcome.won) {
      replies.bytes(SPACE_W);
    }
    replies.bytes(CRLF);
    if (returnValue) {
      replies.bytes(value).bytes(CRLF);
    }
  }

  private static final long NO_TTL_SNAPSHOT = Long.MIN_VALUE;

  /**
   * memcached applies {@code T} when it meets it among the flags, so a {@code t} before it reports
   * the TTL from before the touch. Returns that TTL when needed, else {@link #NO_TTL_SNAPSHOT}.
   */
  private long ttlBeforeTouch(AsciiLine line) {
    if (!touch) {
      return NO_TTL_SNAPSHOT;
    }
    for (int i = firstFlag; i < line.tokenCount; i++) {
      byte flag = line.tokenByte(i, 0);
      if (flag == 'T') {
        return NO_TTL_SNAPSHOT;
      }
      if (flag == 't') {
        return keys.peek(keyBytes, keyOffset, keyLength, false, outcome)
            ? outcome.ttlSeconds
            : NO_TTL_SNAPSHOT;
      }
    }
    return NO_TTL_SNAPSHOT;
  }

  // ---------------------------------------------------------------------------------------------
  // ms

  /** "ms <key> <datalen> <flags>*\r\n", followed by the data block. */
  private void metaSetLine(AsciiLine line, AsciiCommands.Framing framing) {
    if (line.tokenCount < 3) {
      error(line.tokenCount < 2 ? AsciiCommands.ERROR : AsciiCommands.BAD_FORMAT);
      return;
    }
    if (line.tokenLength(1) > KEY_MAX_LENGTH) {
      error(AsciiCommands.BAD_FORMAT);
      return;
    }
    if (!numbers.signed32(line.bytes, line.tokenStart[2], line.tokenEnd[2])
        || numbers.value < 0
        || numbers.value > Integer.MAX_VALUE - 2) {
      error(AsciiCommands.BAD_FORMAT);
      return;
    }
    int length = (int) numbers.value;
    if (!parseFlags(line, 3)) {
      // memcached still reads and drops the data block it was promised.
      error(errorReply);
      framing.swallow(length + 2L);
      return;
    }
    if (mode != 0
        && mode != 'E'
        && mode != 'A'
        && mode != 'P'
        && mode != 'R'
        && mode != 'S'
        && mode != 'e'
        && mode != 'a'
        && mode != 'p'
        && mode != 'r'
        && mode != 's') {
      error(INVALID_MODE);
      framing.swallow(length + 2L);
      return;
    }
    if (length > keys.maxItemSize()) {
      stats.countStore(Status.TOO_LARGE);
      error(AsciiCommands.TOO_LARGE);
      removeStaleValue();
      framing.swallow(length + 2L);
      return;
    }
    awaitingData = true;
    framing.expectData(length);
  }

  /**
   * memcached 1.6.18's {@code ms} refused for size unlinks the key's old value whatever the mode,
   * so that no reader sees data older than a write that was attempted.
   */
  private void removeStaleValue() {
    keys.delete(keyBytes, keyOffset, keyLength, 0);
  }

  void onData(AsciiLine line, byte[] data, boolean terminated) {
    awaitingData = false;
    if (!terminated) {
      error(AsciiCommands.BAD_DATA_CHUNK);
      return;
    }
    stats.cmdMeta.increment();
    stats.cmdSet.increment();
    StoreMode storeMode =
        switch (mode) {
          case 'E', 'e' -> StoreMode.ADD;
          case 'A', 'a' -> StoreMode.APPEND;
          case 'P', 'p' -> StoreMode.PREPEND;
          case 'R', 'r' -> StoreMode.REPLACE;
          default -> hasCompareCas ? StoreMode.CAS : StoreMode.SET;
        };
    if (managed
        && storeMode != StoreMode.APPEND
        && storeMode != StoreMode.PREPEND
        && (Keyspace.profileRecordOf((int) clientFlags, data) != null
            || keys.holdsProfile(keyBytes, keyOffset, keyLength))) {
      error(LoggedReplies.SET_UPDATE_OR_DELETE); // ms has no place in the log's order of writes
      return;
    }
    Status status;
    try {
      status =
          keys.store(
              storeMode,
              keyBytes,
              keyOffset,
              keyLength,
              (int) clientFlags,
              touch ? touchExptime : 0,
              data,
              hasCompareCas ? compareCas : 0,
              invalidate,
              base64Key,
              outcome);
    } catch (ProfileRejectedException e) {
      error(ascii("CLIENT_ERROR " + e.getMessage() + "\r\n"));
      return;
    }
    boolean concatenation = storeMode == StoreMode.APPEND || storeMode == StoreMode.PREPEND;
    if (status == Status.RESERVED) {
      error(AsciiCommands.RESERVED_KEY);
      return;
    }
    if (status == Status.TOO_LARGE && !concatenation) {
      removeStaleValue(); // a profile whose rendering is over the limit, as a value over it
    }
    stats.countStore(status);
    if (storeMode == StoreMode.CAS) {
      switch (status) {
        case STORED -> stats.casHits.increment();
        case EXISTS -> stats.casBadval.increment();
        case NOT_FOUND -> stats.casMisses.increment();
        default -> {}
      }
    }
    byte[] code;
    switch (status) {
      case STORED -> {
        if (noreply) {
          return;
        }
        code = HD;
      }
      case EXISTS -> code = EX;
      case NOT_FOUND -> code = NF;
      case TOO_LARGE -> {
        // An append past the limit is memcached's "out of memory"; a profile too large to render
        // within the limit is refused as a value over it would be.
        error(concatenation ? AsciiCommands.OUT_OF_MEMORY : AsciiCommands.TOO_LARGE);
        return;
      }
      case IS_PROFILE -> {
        error(AsciiCommands.APPEND_TO_PROFILE);
        return;
      }
      default -> code = NS;
    }
    replies.bytes(code);
    for (int i = firstFlag; i < line.tokenCount; i++) {
      switch (line.tokenByte(i, 0)) {
        case 'O' -> echoToken(line, i);
        case 'k' -> echoStoredKey(line);
        case 'c' -> replies.bytes(SPACE_C).unsignedDecimal(outcome.cas);
        default -> {}
      }
    }
    replies.bytes(CRLF);
  }

  // ---------------------------------------------------------------------------------------------
  // md

  /** "md <key> <flags>*\r\n". */
  private void metaDelete(AsciiLine line) {
    if (!startKeyed(line, true)) {
      return;
    }
    stats.cmdMeta.increment();
    if (managed && keys.holdsProfile(keyBytes, keyOffset, keyLength)) {
      error(LoggedReplies.SET_UPDATE_OR_DELETE);
      return;
    }
    long cas = hasCompareCas ? compareCas : 0;
    Status status =
        invalidate
            ? keys.invalidate(keyBytes, keyOffset, keyLength, cas, touch, touchExptime)
            : keys.delete(keyBytes, keyOffset, keyLength, cas);
    byte[] code;
    switch (status) {
      case DELETED -> {
        stats.deleteHits.increment();
        if (noreply) {
          return;
        }
        code = HD;
      }
      case EXISTS -> code = EX;
      default -> {
        stats.deleteMisses.increment();
        code = NF;
      }
    }
    replies.bytes(code);
    writeKeyAndOpaque(line);
    replies.bytes(CRLF);
  }

  // ---------------------------------------------------------------------------------------------
  // ma

  /** "ma <key> <flags>*\r\n". */
  private void metaArithmetic(AsciiLine line) {
    if (!startKeyed(line, true)) {
      return;
    }
    boolean increment;
    switch (mode) {
      case 0, 'I', 'i', '+' -> increment = true;
      case 'D', 'd', '-' -> increment = false;
      default -> {
        error(INVALID_ARITH_MODE);
        return;
      }
    }
    stats.cmdMeta.increment();
    Status status =
        keys.arithmetic(
            keyBytes,
            keyOffset,
            keyLength,
            increment,
            delta,
            hasCompareCas ? compareCas : 0,
            vivify,
            initial,
            vivifyExptime,
            touch,
            touchExptime,
            base64Key,
            outcome);
    byte[] code;
    switch (status) {
      case STORED -> {
        (increment ? stats.incrHits : stats.decrHits).increment();
        // memcached answers an item created by N even under q.
        if (noreply && !outcome.created) {
          return;
        }
        code = returnValue ? null : HD;
      }
      case NOT_FOUND -> {
        (increment ? stats.incrMisses : stats.decrMisses).increment();
        code = NF;
      }
      case EXISTS -> code = EX;
      case NON_NUMERIC -> {
        error(AsciiCommands.NON_NUMERIC);
        return;
      }
      case IS_PROFILE -> {
        error(AsciiCommands.ARITHMETIC_ON_PROFILE);
        return;
      }
      default -> code = NS;
    }
    if (code == null) {
      replies.bytes(VA).unsignedDecimal(decimalLength(outcome.number));
    } else {
      replies.bytes(code);
    }
    if (status == Status.STORED) {
      for (int i = firstFlag; i < line.tokenCount; i++) {
        switch (line.tokenByte(i, 0)) {
          case 't' -> replies.bytes(SPACE_T).decimal(outcome.ttlSeconds);
          case 'c' -> replies.bytes(SPACE_C).unsignedDecimal(outcome.cas);
          case 'O' -> echoToken(line, i);
          case 'k' -> echoKey(line); // memcached's ma names the key as the request did
          default -> {}
        }
      }
    } else {
      writeKeyAndOpaque(line);
    }
    replies.bytes(CRLF);
    if (code == null) {
      replies.unsignedDecimal(outcome.number).bytes(CRLF);
    }
  }

  private static int decimalLength(long unsigned) {
    return Long.toUnsignedString(unsigned).length();
  }

  // ---------------------------------------------------------------------------------------------
  // me

  /**
   * "me <key> [b]\r\n": "ME <key> <k>=<v>*\r\n" or "EN\r\n". memcached 1.6.18 reads one flag here,
   * a third token that is exactly {@code b}, and ignores any other; the key printed is the item's,
   * re-encoded in base64 when it was stored that way.
   */
  private void metaDebug(AsciiLine line) {
    if (line.tokenCount < 2 || line.tokenLength(1) > KEY_MAX_LENGTH) {
      error(AsciiCommands.BAD_FORMAT);
      return;
    }
    keyBytes = line.bytes;
    keyOffset = line.tokenStart[1];
    keyLength = line.tokenLength(1);
    if (line.tokenCount > 2
        && line.tokenLength(2) == 1
        && line.tokenByte(2, 0) == 'b'
        && !decodeBase64Key(line)) {
      error(AsciiCommands.BAD_FORMAT);
      return;
    }
    if (!keys.peek(keyBytes, keyOffset, keyLength, true, outcome)) {
      replies.bytes(EN);
      return;
    }
    replies.bytes(ME).bytes(storedKey());
    replies.bytes(ascii(" exp=")).decimal(outcome.ttlSeconds);
    replies.bytes(ascii(" la=")).unsignedDecimal(outcome.secondsSinceAccess);
    replies.bytes(ascii(" cas=")).unsignedDecimal(outcome.cas);
    replies.bytes(ascii(outcome.fetchedBefore ? " fetch=yes" : " fetch=no"));
    // memcached prints ITEM_ntotal: its 56-byte header with the cas, the key and a NUL, the value
    // and its CRLF. A profile's value is what a get returns, its rendering.
    byte[] value = outcome.value;
    replies
        .bytes(ascii(" cls=1 size="))
        .unsignedDecimal(outcome.key.length + (value == null ? 0 : value.length) + 59L)
        .bytes(CRLF);
  }

  // ---------------------------------------------------------------------------------------------
  // Flags

  /**
   * Checks the key token, parses the flags after it, and reports any error; false on error.
   *
   * @param genericFlagErrors md and ma: report flag errors as memcached 1.6 does for them
   */
  private boolean startKeyed(AsciiLine line, boolean genericFlagErrors) {
    if (line.tokenCount < 2) {
      error(AsciiCommands.ERROR);
      return false;
    }
    if (line.tokenLength(1) > KEY_MAX_LENGTH) {
      error(AsciiCommands.BAD_FORMAT);
      return false;
    }
    if (!parseFlags(line, 2)) {
      error(genericFlagErrors && errorReply != OPAQUE_TOO_LONG ? INVALID_OR_DUPLICATE : errorReply);
      return false;
    }
    return true;
  }

  /**
   * memcached's {@code _meta_flag_preparse}, then its opaque length check. Sets {@link #errorReply}
   * and returns false on error. As in memcached, a duplicate or unknown flag stops at once, and
   * otherwise the last error with a message is the one reported.
   */
  private boolean parseFlags(AsciiLine line, int first) {
    Arrays.fill(seen, false);
    firstFlag = first;
    errorReply = null;
    flagFailed = false;
    opaqueTooLong = false;
    base64Key = false;
    noreply = false;
    returnValue = false;
    noUpdate = false;
    invalidate = false;
    vivify = false;
    vivifyExptime = 0;
    touch = false;
    touchExptime = 0;
    recache = false;
    recacheSeconds = 0;
    hasCompareCas = false;
    compareCas = 0;
    clientFlags = 0;
    mode = 0;
    initial = 0;
    delta = 1;
    keyBytes = line.bytes;
    keyOffset = line.tokenStart[1];
    keyLength = line.tokenLength(1);
    if (line.moreTokens) {
      errorReply = AsciiCommands.BAD_FORMAT;
      return false;
    }
    byte[] b = line.bytes;
    for (int i = first; i < line.tokenCount; i++) {
      int flag = b[line.tokenStart[i]] & 0xFF;
      int argStart = line.tokenStart[i] + 1;
      int argEnd = line.tokenEnd[i];
      if (flag >= 127 || seen[flag]) {
        errorReply = DUPLICATE_FLAG;
        return false;
      }
      seen[flag] = true;
      switch (flag) {
        case 'b' -> {
          if (!decodeBase64Key(line)) {
            setError(BAD_KEY);
          }
        }
        case 'N' -> {
          vivify = true;
          if (numbers.signed32(b, argStart, argEnd)) {
            vivifyExptime = numbers.value;
          } else {
            setError(BAD_TOKEN);
          }
        }
        case 'T' -> {
          touch = true;
          if (numbers.signed32(b, argStart, argEnd)) {
            touchExptime = numbers.value;
          } else {
            setError(BAD_TOKEN);
          }
        }
        case 'R' -> {
          recache = true;
          if (numbers.signed32(b, argStart, argEnd)) {
            recacheSeconds = numbers.value;
          } else {
            setError(BAD_TOKEN);
          }
        }
        case 'O' -> {
          if (argEnd - argStart + 1 > MAX_OPAQUE_LENGTH) {
            opaqueTooLong = true;
          }
        }
        case 'P', 'L', 'k', 's', 't', 'c', 'f', 'l', 'h' -> {}
        case 'v' -> returnValue = true;
        case 'u' -> noUpdate = true;
        case 'q' -> noreply = true;
        case 'I' -> invalidate = true;
        case 'F' -> {
          if (numbers.unsigned32(b, argStart, argEnd)) {
            clientFlags = numbers.value;
          } else {
            flagFailed = true;
          }
        }
        case 'C' -> {
          if (numbers.unsigned64(b, argStart, argEnd)) {
            hasCompareCas = true;
            compareCas = numbers.value;
          } else {
            setError(BAD_TOKEN);
          }
        }
        case 'M' -> {
          if (argEnd - argStart != 1) {
            setError(BAD_MODE_LENGTH);
          } else {
            mode = b[argStart];
          }
        }
        case 'J' -> {
          if (numbers.unsigned64(b, argStart, argEnd)) {
            initial = numbers.value;
          } else {
            setError(INVALID_INITIAL);
          }
        }
        case 'D' -> {
          if (numbers.unsigned64(b, argStart, argEnd)) {
            delta = numbers.value;
          } else {
            setError(INVALID_DELTA);
          }
        }
        default -> {
          errorReply = INVALID_FLAG;
          return false;
        }
      }
    }
    if (errorReply == null && flagFailed) {
      errorReply = AsciiCommands.BAD_FORMAT;
    }
    if (errorReply == null && opaqueTooLong) {
      errorReply = OPAQUE_TOO_LONG;
    }
    return errorReply == null;
  }

  private void setError(byte[] reply) {
    errorReply = reply;
  }

  /** The key token decoded as memcached decodes a base64 key ({@link Base64Key}). */
  private boolean decodeBase64Key(AsciiLine line) {
    byte[] decoded = Base64Key.decode(line.bytes, line.tokenStart[1], line.tokenLength(1));
    if (decoded == null) {
      return false;
    }
    base64Key = true;
    keyBytes = decoded;
    keyOffset = 0;
    keyLength = decoded.length;
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Replies

  private static final byte[] SPACE_S = ascii(" s");
  private static final byte[] SPACE_T = ascii(" t");
  private static final byte[] SPACE_C = ascii(" c");
  private static final byte[] SPACE_F = ascii(" f");
  private static final byte[] SPACE_L = ascii(" l");
  private static final byte[] SPACE_H = ascii(" h");
  private static final byte[] SPACE_K = ascii(" k");
  private static final byte[] SPACE_B = ascii(" b");
  private static final byte[] SPACE_W = ascii(" W");
  private static final byte[] SPACE_X = ascii(" X");
  private static final byte[] SPACE_Z = ascii(" Z");

  private void writeKeyAndOpaque(AsciiLine line) {
    for (int i = firstFlag; i < line.tokenCount; i++) {
      switch (line.tokenByte(i, 0)) {
        case 'O' -> echoToken(line, i);
        case 'k' -> echoKey(line);
        default -> {}
      }
    }
  }

  /** " O<opaque>": the token is echoed whole, flag letter included. */
  private void echoToken(AsciiLine line, int token) {
    replies.ascii(' ').bytes(line.bytes, line.tokenStart[token], line.tokenLength(token));
  }

  /**
   * " k<key>" as this request named it: as sent, or, for a base64 key, re-encoded from the decoded
   * bytes with " b" (memcached echoes {@code YW!Jj} as {@code YWJj}).
   */
  private void echoKey(AsciiLine line) {
    if (base64Key) {
      replies.bytes(SPACE_K).bytes(Base64Key.encode(keyBytes, keyOffset, keyLength)).bytes(SPACE_B);
    } else {
      replies.bytes(SPACE_K).bytes(line.bytes, line.tokenStart[1], line.tokenLength(1));
    }
  }

  /**
   * " k<key>" as the outcome's item was stored, which is how memcached's mg and ms echo it:
   * base64-encoded (with " b") exactly when it was stored through a base64 key, whatever form this
   * request used; as the request named it when there is no item (a virtual key, a refused store).
   */
  private void echoStoredKey(AsciiLine line) {
    if (outcome.key == null) {
      echoKey(line);
    } else {
      replies.bytes(SPACE_K).bytes(storedKey());
      if (outcome.binaryKey) {
        replies.bytes(SPACE_B);
      }
    }
  }

  /** The outcome's key as memcached prints it: re-encoded in base64 if it was stored that way. */
  private byte[] storedKey() {
    byte[] key = outcome.key;
    return outcome.binaryKey ? Base64Key.encode(key, 0, key.length) : key;
  }

  private void error(byte[] reply) {
    stats.protocolErrors.increment();
    replies.bytes(reply);
  }
}
