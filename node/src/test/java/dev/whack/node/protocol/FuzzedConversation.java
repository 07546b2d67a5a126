package dev.whack.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.whack.node.protocol.ascii.AsciiDecoder;
import dev.whack.node.testing.EmbeddedPipeline;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

/**
 * One conversation of arbitrary bytes with a node's protocol front end (the pipeline of an accepted
 * socket, over a real cache and engine, {@link EmbeddedPipeline}), and what must hold whatever the
 * bytes are:
 *
 * <ul>
 *   <li>no exception escapes the front end: nothing but I/O errors may reach the handlers after it;
 *   <li>the replies are well framed (text: {@code \r\n} lines and the data blocks their lines
 *       announce; binary: whole response packets), and a text connection the node closes was told
 *       why ({@code ERROR}, {@code CLIENT_ERROR}, {@code SERVER_ERROR}), asked to ({@code quit}) or
 *       sent what looks like an HTTP request line (closed silently, as memcached does);
 *   <li>the bytes arriving in random pieces give exactly the replies, and the same close, as
 *       arriving at once (the decoders are state machines over whatever the network delivers);
 *       statistics and watched changes, whose values or timing differ by nature, are left out;
 *   <li>memory per connection stays bounded: the request bytes held never exceed one line or one
 *       item ({@link #maxBufferedRequestBytes}), the replies held before a flush never exceed the 4
 *       MiB past which the node stops reading plus one early-written batch ({@link
 *       #MAX_UNFLUSHED_REPLY_BYTES}), and every buffer taken is given back once the connection
 *       closes;
 *   <li>a well-behaved second connection still works afterwards: its {@code set} and {@code get}
 *       are answered exactly.
 * </ul>
 */
final class FuzzedConversation {
  /**
   * The server's write high-water mark (past it a connection stops being read) plus the 256 KiB
   * after which a batch's replies are written early: what one connection may hold in replies.
   */
  static final int MAX_UNFLUSHED_REPLY_BYTES = 4 * 1024 * 1024 + 256 * 1024;

  static final int BINARY_REQUEST_MAGIC = 0x80;
  private static final int BINARY_RESPONSE_MAGIC = 0x81;
  private static final int BINARY_HEADER_BYTES = 24;
  private static final int OPCODE_STAT = 0x10;
  private static final int OPCODE_WATCH = 0x6a;
  private static final String PROBE_KEY = "whack:fuzz:second-connection";

  /**
   * The second connection's requests. The flush comes first because a delayed {@code flush_all} the
   * fuzzed input may have sent hides, as in memcached, what is written in the second it falls due,
   * and the pipeline's clock stands still; an immediate flush cancels it.
   */
  private static final byte[] PROBE =
      ("flush_all\r\nset " + PROBE_KEY + " 7 0 2\r\nok\r\nget " + PROBE_KEY + "\r\n")
          .getBytes(StandardCharsets.US_ASCII);

  private static final String PROBE_REPLY =
      "OK\r\nSTORED\r\nVALUE " + PROBE_KEY + " 7 2\r\nok\r\nEND\r\n";

  private FuzzedConversation() {}

  /** Runs {@code input} as one connection's bytes and checks every rule above. */
  static void check(byte[] input) {
    boolean binary = input.length > 0 && (input[0] & 0xff) == BINARY_REQUEST_MAGIC;
    Outcome atOnce = converse(input, 0);
    int[] maxPieces = {1, 7, 64, 1024};
    Outcome inPieces = converse(input, maxPieces[Math.floorMod(Arrays.hashCode(input), 4)]);
    String what = describe(input);
    String whole = binary ? binaryReplies(atOnce, input) : textReplies(atOnce, input);
    String pieces = binary ? binaryReplies(inPieces, input) : textReplies(inPieces, input);
    assertEquals(whole, pieces, () -> "replies differ when the bytes arrive in pieces: " + what);
    assertEquals(
        atOnce.closed, inPieces.closed, () -> "closed at once but not in pieces, or back: " + what);
  }

  /** What one conversation gave. */
  private record Outcome(byte[] replies, boolean closed) {}

  /**
   * Feeds {@code input} to a new connection of a new pipeline, at once ({@code maxPiece} 0) or in
   * random pieces of at most {@code maxPiece} bytes, checking the bounds after every piece; then
   * checks that a second connection works and that nothing leaked.
   */
  private static Outcome converse(byte[] input, int maxPiece) {
    EmbeddedPipeline pipeline = EmbeddedPipeline.start();
    ReplyMeter meter = new ReplyMeter();
    EscapeCatcher escapes = new EscapeCatcher();
    EmbeddedChannel channel = pipeline.connect(meter, escapes);
    ByteArrayOutputStream replies = new ByteArrayOutputStream();
    Random random = new Random(Arrays.hashCode(input) * 31L + maxPiece);
    int maxBuffered = maxBufferedRequestBytes(pipeline);
    String what = describe(input);
    try {
      int at = 0;
      while (at < input.length && channel.isOpen()) {
        int piece = maxPiece == 0 ? input.length : 1 + random.nextInt(maxPiece);
        piece = Math.min(piece, input.length - at);
        channel.writeInbound(Unpooled.wrappedBuffer(input, at, piece));
        at += piece;
        channel.runPendingTasks();
        drain(channel, replies);
        escapes.assertNone(what);
        if (channel.isOpen()) {
          int buffered = bufferedRequestBytes(channel);
          assertTrue(
              buffered <= maxBuffered,
              () -> "holds " + buffered + " request bytes, over " + maxBuffered + ": " + what);
        }
        assertTrue(
            meter.maxUnflushed <= MAX_UNFLUSHED_REPLY_BYTES,
            () -> "held " + meter.maxUnflushed + " reply bytes before a flush: " + what);
      }
      boolean closed = !channel.isOpen();
      assertSecondConnectionWorks(pipeline, what);
      channel.finishAndReleaseAll();
      drain(channel, replies);
      escapes.assertNone(what);
      assertEquals(0, pipeline.bufferBytesInUse(), () -> "buffers not given back after " + what);
      return new Outcome(replies.toByteArray(), closed);
    } finally {
      channel.finishAndReleaseAll();
    }
  }

  private static void assertSecondConnectionWorks(EmbeddedPipeline pipeline, String what) {
    EmbeddedChannel second = pipeline.connect();
    ByteArrayOutputStream replies = new ByteArrayOutputStream();
    second.writeInbound(Unpooled.wrappedBuffer(PROBE));
    second.runPendingTasks();
    drain(second, replies);
    assertEquals(
        PROBE_REPLY,
        replies.toString(StandardCharsets.ISO_8859_1),
        () -> "a second connection's set and get, after " + what);
    second.finishAndReleaseAll();
  }

  /**
   * The most request bytes a connection may hold between reads: a retrieval line (the longest
   * line), or a data block of the largest item and its {@code \r\n} less one byte; a binary
   * connection holds less (a header, extras and key, or one value).
   */
  static int maxBufferedRequestBytes(EmbeddedPipeline pipeline) {
    return Math.max(AsciiDecoder.MAX_RETRIEVAL_LINE_BYTES, pipeline.keyspace().maxItemSize() + 2);
  }

  private static int bufferedRequestBytes(EmbeddedChannel channel) {
    for (var entry : channel.pipeline()) {
      if (entry.getValue() instanceof ProtocolDecoder decoder) {
        return decoder.bufferedRequestBytes();
      }
    }
    return 0; // still detecting: nothing has arrived, or the detector holds the first bytes
  }

  private static void drain(EmbeddedChannel channel, ByteArrayOutputStream into) {
    Object msg;
    while ((msg = channel.readOutbound()) != null) {
      ByteBuf buf = (ByteBuf) msg;
      try {
        buf.readBytes(into, buf.readableBytes());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      } finally {
        buf.release();
      }
    }
  }

  /**
   * The text replies, checked for framing, with {@code STAT} lines (uptime, resource usage) and
   * watched changes (delivered between reads, so where they fall depends on the pieces) left out.
   */
  private static String textReplies(Outcome outcome, byte[] input) {
    byte[] r = outcome.replies;
    StringBuilder kept = new StringBuilder();
    String lastLine = "";
    int at = 0;
    while (at < r.length) {
      int eol = indexOfCrLf(r, at);
      if (eol < 0) {
        fail(
            "a reply not ending in \\r\\n: "
                + latin1(r, at, r.length)
                + " after "
                + describe(input));
      }
      String line = new String(r, at, eol - at, StandardCharsets.ISO_8859_1);
      at = eol + 2;
      int block = announcedBlock(line);
      String blockText = "";
      if (block >= 0) {
        int blockAt = at;
        assertTrue(
            block <= r.length - at - 2 && r[at + block] == '\r' && r[at + block + 1] == '\n',
            () ->
                "a data block of "
                    + block
                    + " bytes not there or not ending in \\r\\n after "
                    + line
                    + ": "
                    + latin1(r, blockAt, r.length)
                    + " after "
                    + describe(input));
        blockText = latin1(r, at, at + block + 2);
        at += block + 2;
      }
      lastLine = line;
      if (!line.startsWith("STAT ") && !line.startsWith("CHANGE ") && !line.startsWith("MISSED ")) {
        kept.append(line).append("\r\n").append(blockText);
      }
    }
    if (outcome.closed) {
      String last = lastLine;
      assertTrue(
          last.startsWith("ERROR")
              || last.startsWith("CLIENT_ERROR ")
              || last.startsWith("SERVER_ERROR ")
              || new String(input, StandardCharsets.ISO_8859_1).contains("quit")
              || new String(input, StandardCharsets.ISO_8859_1).contains("HTTP/"),
          () -> "closed without an error reply (last: " + last + "): " + describe(input));
    }
    return kept.toString();
  }

  /** The length of the data block a reply line announces, or -1 (docs/protocol.md). */
  private static int announcedBlock(String line) {
    String[] t = line.split(" ", -1);
    int token =
        switch (t[0]) {
          case "VALUE", "SEGMENT" ->
              3; // VALUE <key> <flags> <bytes> [<cas>]; SEGMENT <name> <size> <bytes>
          case "PROFILE" -> 2; // PROFILE <key> <bytes>
          case "VA" -> 1; // VA <size> <flags>*
          default -> -1;
        };
    if (token < 0) {
      return -1;
    }
    if (t.length <= token || !t[token].matches("[0-9]{1,10}")) {
      fail("a reply line without its block length: " + line);
    }
    return Integer.parseInt(t[token]);
  }

  /** The binary replies, checked to be whole response packets, less Stat and watch packets. */
  private static String binaryReplies(Outcome outcome, byte[] input) {
    byte[] r = outcome.replies;
    StringBuilder kept = new StringBuilder();
    int at = 0;
    while (at < r.length) {
      int from = at;
      assertTrue(
          r.length - at >= BINARY_HEADER_BYTES && (r[at] & 0xff) == BINARY_RESPONSE_MAGIC,
          () ->
              "not a response header at "
                  + from
                  + ": "
                  + hex(r, from)
                  + " after "
                  + describe(input));
      int opcode = r[at + 1] & 0xff;
      int keyLength = (r[at + 2] & 0xff) << 8 | (r[at + 3] & 0xff);
      int extrasLength = r[at + 4] & 0xff;
      long bodyLength =
          ((long) (r[at + 8] & 0xff) << 24)
              | (r[at + 9] & 0xff) << 16
              | (r[at + 10] & 0xff) << 8
              | (r[at + 11] & 0xff);
      assertTrue(
          bodyLength >= keyLength + extrasLength
              && bodyLength <= r.length - at - BINARY_HEADER_BYTES,
          () ->
              "a response whose lengths do not add up at "
                  + from
                  + ": "
                  + hex(r, from)
                  + " after "
                  + describe(input));
      int end = at + BINARY_HEADER_BYTES + (int) bodyLength;
      if (opcode != OPCODE_STAT && opcode != OPCODE_WATCH) {
        kept.append(HexFormat.of().formatHex(r, at, end)).append('\n');
      }
      at = end;
    }
    return kept.toString();
  }

  private static int indexOfCrLf(byte[] b, int from) {
    for (int i = from; i + 1 < b.length; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private static String latin1(byte[] b, int from, int to) {
    return new String(b, from, Math.min(to, from + 200) - from, StandardCharsets.ISO_8859_1);
  }

  private static String hex(byte[] b, int from) {
    return HexFormat.of().formatHex(b, from, Math.min(b.length, from + 48));
  }

  /** The input for a failure message: its start, escaped, and its length. */
  static String describe(byte[] input) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(input.length, 300); i++) {
      int c = input[i] & 0xff;
      if (c == '\r') {
        s.append("\\r");
      } else if (c == '\n') {
        s.append("\\n");
      } else if (c < 0x20 || c >= 0x7f) {
        s.append(String.format("\\x%02x", c));
      } else {
        s.append((char) c);
      }
    }
    return "\"" + s + (input.length > 300 ? "...\"" : "\"") + " (" + input.length + " bytes)";
  }

  /**
   * Sits right after the connection's first handler and counts the reply bytes written since the
   * last flush: what the connection holds in replies before the socket takes them.
   */
  private static final class ReplyMeter extends ChannelDuplexHandler {
    long unflushed;
    long maxUnflushed;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof ByteBuf buf) {
        unflushed += buf.readableBytes();
        maxUnflushed = Math.max(maxUnflushed, unflushed);
      }
      ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
      unflushed = 0;
      ctx.flush();
    }
  }

  /** The last handler: anything thrown by the protocol front end lands here. */
  private static final class EscapeCatcher extends ChannelInboundHandlerAdapter {
    private Throwable escaped;

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (escaped == null) {
        escaped = cause;
      }
    }

    void assertNone(String what) {
      if (escaped != null) {
        throw new AssertionError("an exception escaped the protocol front end on " + what, escaped);
      }
    }
  }
}
