package dev.whack.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.whack.client.testing.Await;
import dev.whack.client.testing.FakeServer;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A server that answers {@code get k} with bytes no correct node sends: the call fails with the
 * exact reason, the connection is dropped, and the next call works on a new one.
 */
class MisbehavingServerTest {

  static Stream<Arguments> corruptReplies() {
    return Stream.of(
        Arguments.of("HIPPO\r\n", "unexpected reply to get: HIPPO"),
        Arguments.of("\r\n", "unexpected reply to get: "),
        Arguments.of("STORED\r\n", "unexpected reply to get: STORED"),
        Arguments.of("123ABC\r\n", "unexpected reply to get: 123ABC"),
        Arguments.of("\rFoo\n", "a reply line not ending in \\r\\n: \\rFoo\\n"),
        Arguments.of("END\n", "a reply line not ending in \\r\\n: END\\n"),
        Arguments.of("VALUE k 0\r\n", "unexpected reply to get: VALUE k 0"),
        Arguments.of("VALUE k 0 abc\r\n", "not a number in: VALUE k 0 abc"),
        Arguments.of("VALUE k 0 -1\r\n", "not a number in: VALUE k 0 -1"),
        Arguments.of(
            "VALUE k 0 99999999999\r\n", "a number out of range in: VALUE k 0 99999999999"),
        Arguments.of(
            "VALUE k 0 100000000\r\n",
            "a data block of 100000000 bytes, over the 67108864 limit: VALUE k 0 100000000"),
        Arguments.of("VALUE k 4294967296 1\r\n", "flags out of range in: VALUE k 4294967296 1"),
        Arguments.of(
            "VALUE k 0 3\r\nabcd\r\nEND\r\n", "a data block of 3 bytes not ending in \\r\\n"),
        Arguments.of(
            "VALUE other 0 1\r\nx\r\nEND\r\n",
            "a get reply for a key not asked for (or out of order): VALUE other 0 1"),
        Arguments.of(
            "VALUE k 0 1\r\nx\r\nCLIENT_ERROR late\r\n",
            "unexpected reply to get: CLIENT_ERROR late"),
        Arguments.of("CHANGE enter dk k 1\r\n", "unexpected reply to get: CHANGE enter dk k 1"),
        Arguments.of(
            "x".repeat(9000), "a reply line longer than 8192 bytes: " + "x".repeat(64) + "..."));
  }

  @ParameterizedTest
  @MethodSource("corruptReplies")
  void shouldFailWithTheExactReasonAndReconnect(String reply, String reason) {
    AtomicInteger gets = new AtomicInteger();
    try (FakeServer server =
            FakeServer.start(
                (cmd, out) ->
                    out.write(
                        gets.incrementAndGet() == 1 ? reply : "VALUE k 0 2\r\nok\r\nEND\r\n"));
        WhackClient client = Clients.client(server)) {
      CorruptReplyException e = Await.failure(client.get("k"), CorruptReplyException.class);
      assertEquals("corrupt reply from " + server.address() + ": " + reason, e.getMessage());
      assertEquals(server.address(), e.node());

      Optional<Item> next = Await.value(client.get("k"));
      assertEquals("ok", next.orElseThrow().valueAsString());
      assertEquals(2, server.connections(), "the bad connection was replaced");
    }
  }

  static Stream<Arguments> errorReplies() {
    return Stream.of(
        Arguments.of("ERROR\r\n", "ERROR", ""),
        Arguments.of("ERROR Too many open connections\r\n", "ERROR", "Too many open connections"),
        Arguments.of(
            "CLIENT_ERROR bad command line format\r\n", "CLIENT_ERROR", "bad command line format"),
        Arguments.of(
            "SERVER_ERROR out of memory storing object\r\n",
            "SERVER_ERROR",
            "out of memory storing object"));
  }

  @ParameterizedTest
  @MethodSource("errorReplies")
  void shouldReportAnErrorReplyAndKeepTheConnection(String reply, String kind, String message) {
    AtomicInteger gets = new AtomicInteger();
    try (FakeServer server =
            FakeServer.start(
                (cmd, out) -> out.write(gets.incrementAndGet() == 1 ? reply : "END\r\n"));
        WhackClient client = Clients.client(server)) {
      ServerErrorException e = Await.failure(client.get("k"), ServerErrorException.class);
      assertEquals(kind, e.kind());
      assertEquals(message, e.serverMessage());
      assertEquals(server.address(), e.node());
      assertEquals(Optional.empty(), Await.value(client.get("k")));
      assertEquals(1, server.connections());
    }
  }

  @ParameterizedTest
  @MethodSource("corruptReplies")
  void shouldFailEveryRequestPipelinedBehindACorruptReply(String reply, String reason) {
    AtomicInteger gets = new AtomicInteger();
    try (FakeServer server =
            FakeServer.start(
                (cmd, out) -> {
                  if (gets.incrementAndGet() == 3) {
                    out.write(reply);
                  }
                });
        WhackClient client = Clients.client(server)) {
      var first = client.get("k");
      var second = client.get("k");
      var third = client.get("k");
      assertInstanceOf(CorruptReplyException.class, Await.failure(first));
      assertInstanceOf(ConnectionClosedException.class, Await.failure(second));
      assertInstanceOf(ConnectionClosedException.class, Await.failure(third));
    }
  }
}
