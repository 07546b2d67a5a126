package dev.whack.client.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.whack.client.ServerErrorException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * Fuzz target: a node's replies as the client's parsers read them from a connection's buffer. The
 * first byte picks the request (every kind the client sends, and the change lines of a watching
 * connection); the rest is what the node sent. A parser consumes a whole reply and completes its
 * future (with a value or a {@link ServerErrorException}), waits for more, or throws {@link
 * ReplyFormatException}, never anything else; and it does so alike whether the bytes come at once
 * or in pieces, ending at the same byte. Seeds in {@code ReplyFuzzTestInputs/parse/}: a first byte
 * of {@code 'a'} + n picks request n of {@link #REQUESTS}.
 */
class ReplyFuzzTest {
  private static final List<Supplier<Request<?>>> REQUESTS =
      List.of(
          () ->
              new GetRequest(
                  List.of("a", "b", "ü"), List.of(Keys.key("a"), Keys.key("b"), Keys.key("ü"))),
          () -> new StoreRequest(Keys.key("k"), 0, 0, new byte[] {'v'}),
          () -> new DeleteRequest(Keys.key("k")),
          () -> new UpdateRequest(Keys.key("k"), new byte[] {'{', '}'}),
          () -> new VersionRequest(),
          () -> new StatsRequest(""),
          () -> new SegDefineRequest("dk", "country == \"DK\""),
          () -> new SegDropRequest("dk"),
          () -> new SegListRequest(),
          () -> CountRequest.segment("dk and not vip"),
          () -> MembersRequest.segment("dk", 3, null),
          () -> new SegOfRequest(Keys.key("k")),
          () -> new SegOfSinceRequest(Keys.key("k")),
          () -> new DumpRequest("dk", 2, "c1"),
          () -> new WatchRequest(List.of("dk", "vip")),
          () -> new RelayRequest("get a\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)),
          () -> BinaryRelayRequest.noop(),
          () -> new ItemDumpRequest(2, "5"),
          () -> new SegDryRunRequest("dk", "country == \"DK\"", 2));

  @FuzzTest(maxDuration = "5m")
  void parse(byte[] input) {
    if (input.length == 0) {
      return;
    }
    int pick = Math.floorMod(input[0] - 'a', REQUESTS.size() + 1);
    byte[] reply = Arrays.copyOfRange(input, 1, input.length);
    int piece = 1 + Math.floorMod(Arrays.hashCode(reply), 13);
    String whole =
        pick == REQUESTS.size()
            ? pushLines(reply, reply.length)
            : outcome(REQUESTS.get(pick).get(), reply, reply.length);
    String pieces =
        pick == REQUESTS.size()
            ? pushLines(reply, piece)
            : outcome(REQUESTS.get(pick).get(), reply, piece);
    assertEquals(
        whole,
        pieces,
        () ->
            "read differently in pieces of "
                + piece
                + ": "
                + Lines.preview(Unpooled.wrappedBuffer(reply)));
  }

  /** Feeds {@code reply} in pieces until the request completes or fails; says how it ended. */
  private static String outcome(Request<?> request, byte[] reply, int piece) {
    ByteBuf buffer = Unpooled.buffer();
    int fed = 0;
    try {
      while (true) {
        boolean done;
        try {
          done = request.decode(buffer);
        } catch (ReplyFormatException e) {
          return "corrupt"; // its message quotes what was buffered, which depends on the pieces
        }
        if (done) {
          return "done at " + (fed - buffer.readableBytes()) + ": " + result(request);
        }
        if (fed == reply.length) {
          return "waiting";
        }
        int n = Math.min(piece, reply.length - fed);
        buffer.writeBytes(reply, fed, n);
        fed += n;
      }
    } finally {
      buffer.release();
    }
  }

  private static String result(Request<?> request) {
    try {
      Object value = request.future().join();
      return value instanceof byte[] b ? Arrays.toString(b) : String.valueOf(value);
    } catch (CompletionException e) {
      if (e.getCause() instanceof ServerErrorException error) {
        return error.getClass().getSimpleName() + ": " + error.getMessage();
      }
      throw e;
    }
  }

  /** The change lines of a watching connection, read until one is not there yet or not a change. */
  private static String pushLines(byte[] reply, int piece) {
    ByteBuf buffer = Unpooled.buffer();
    StringBuilder lines = new StringBuilder();
    int fed = 0;
    try {
      while (true) {
        PushLine line;
        try {
          line = PushLines.read(buffer);
        } catch (ReplyFormatException e) {
          return lines + "corrupt";
        }
        if (line == PushLine.NOT_A_PUSH) {
          return lines + "not a push at " + (fed - buffer.readableBytes());
        }
        if (line != null) {
          lines.append(line).append('\n');
          continue;
        }
        if (fed == reply.length) {
          return lines + "waiting";
        }
        int n = Math.min(piece, reply.length - fed);
        buffer.writeBytes(reply, fed, n);
        fed += n;
      }
    } finally {
      buffer.release();
    }
  }
}
