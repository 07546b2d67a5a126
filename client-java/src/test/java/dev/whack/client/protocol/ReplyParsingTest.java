package dev.whack.client.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.BadExpressionException;
import dev.whack.client.Item;
import dev.whack.client.SegmentChange;
import dev.whack.client.SegmentDryRun;
import dev.whack.client.SegmentInfo;
import dev.whack.client.SegmentMembership;
import dev.whack.client.ServerErrorException;
import dev.whack.client.UpdateResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Every reply parser against the replies of docs/protocol.md, fed whole, byte by byte, and split at
 * every position, as a connection's buffer would deliver them.
 */
class ReplyParsingTest {

  /** Parses {@code reply} in every way it can arrive; all must agree. Returns the value. */
  private static <T> T parse(Supplier<Request<T>> fresh, String reply) {
    byte[] bytes = reply.getBytes(StandardCharsets.UTF_8);
    T whole = feed(fresh.get(), bytes, bytes.length);
    assertEquals(whole, feed(fresh.get(), bytes, 1), "byte by byte");
    for (int split = 1; split < bytes.length; split++) {
      assertEquals(whole, feed(fresh.get(), bytes, split), "split every " + split + " bytes");
    }
    return whole;
  }

  /** Feeds {@code bytes} in pieces of {@code piece}; the reply must end exactly at the end. */
  private static <T> T feed(Request<T> request, byte[] bytes, int piece) {
    ByteBuf buffer = Unpooled.buffer();
    try {
      for (int at = 0; at < bytes.length; at += piece) {
        buffer.writeBytes(bytes, at, Math.min(piece, bytes.length - at));
        boolean done = request.decode(buffer);
        boolean last = at + piece >= bytes.length;
        assertEquals(
            last, done, "complete exactly at the end (piece " + piece + ", at " + at + ")");
        buffer.discardReadBytes();
      }
      assertFalse(buffer.isReadable(), "consumed the whole reply");
      return request.future().getNow(null);
    } finally {
      buffer.release();
    }
  }

  private static Throwable parseFailure(Request<?> request, String reply) {
    ByteBuf buffer = Unpooled.copiedBuffer(reply, StandardCharsets.UTF_8);
    try {
      assertTrue(request.decode(buffer));
      assertFalse(buffer.isReadable());
      CompletionException e = assertThrows(CompletionException.class, request.future()::join);
      return e.getCause();
    } finally {
      buffer.release();
    }
  }

  private static String encoded(Request<?> request) {
    ByteBuf buffer = Unpooled.buffer();
    try {
      request.encode(buffer);
      return buffer.toString(StandardCharsets.UTF_8);
    } finally {
      buffer.release();
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static GetRequest get(String... keys) {
    List<String> names = List.of(keys);
    return new GetRequest(names, names.stream().map(Keys::key).toList());
  }

  @Test
  void shouldParseAMultiGetWithHitsInRequestOrder() {
    Map<String, Item> hits =
        parse(
            () -> get("a", "b", "c"), "VALUE a 5 3\r\nabc\r\nVALUE c 4294967295 0\r\n\r\nEND\r\n");
    assertEquals(List.of("a", "c"), List.copyOf(hits.keySet()));
    assertEquals(new Item(utf8("abc"), 5), hits.get("a"));
    assertEquals(new Item(new byte[0], -1), hits.get("c"));
  }

  @Test
  void shouldParseAValueContainingCrLfAndEnd() {
    Map<String, Item> hits = parse(() -> get("k"), "VALUE k 0 7\r\nEND\r\n\r\n\r\nEND\r\n");
    assertEquals("END\r\n\r\n", hits.get("k").valueAsString());
  }

  @Test
  void shouldAcceptACasTokenOnAValueLine() {
    assertEquals(1, parse(() -> get("k"), "VALUE k 0 1 99\r\nx\r\nEND\r\n").size());
  }

  @Test
  void shouldRejectAHitForAKeyNotAskedFor() {
    ReplyFormatException e =
        assertThrows(
            ReplyFormatException.class,
            () -> feed(get("a", "b"), utf8("VALUE b 0 1\r\nx\r\nVALUE a 0 1\r\nx\r\nEND\r\n"), 64));
    assertEquals(
        "a get reply for a key not asked for (or out of order): VALUE a 0 1", e.getMessage());
  }

  @Test
  void shouldEncodeAMultiGetOnOneLine() {
    assertEquals("get a b ü\r\n", encoded(get("a", "b", "ü")));
  }

  @Test
  void shouldEncodeASetWithUnsignedFlags() {
    StoreRequest set = new StoreRequest(Keys.key("user:1"), 0x77680001, 0, utf8("{\"a\":1}"));
    assertEquals("set user:1 2003304449 0 7\r\n{\"a\":1}\r\n", encoded(set));
    assertEquals(
        "set k 4294967295 60 0\r\n\r\n",
        encoded(new StoreRequest(Keys.key("k"), -1, 60, new byte[0])));
  }

  @Test
  void shouldParseStoreReplies() {
    assertEquals(
        true, parse(() -> new StoreRequest(Keys.key("k"), 0, 0, new byte[0]), "STORED\r\n"));
    assertEquals(
        false, parse(() -> new StoreRequest(Keys.key("k"), 0, 0, new byte[0]), "NOT_STORED\r\n"));
  }

  @Test
  void shouldTurnAnErrorLineIntoAServerErrorAndLeaveTheRestUnread() {
    StoreRequest set = new StoreRequest(Keys.key("k"), 0, 0, utf8("x"));
    ServerErrorException e =
        assertInstanceOf(
            ServerErrorException.class,
            parseFailure(set, "CLIENT_ERROR bad profile: expected '}' at 7\r\n"));
    assertEquals("CLIENT_ERROR", e.kind());
    assertEquals("bad profile: expected '}' at 7", e.serverMessage());
    assertEquals(
        "ERROR", ((ServerErrorException) parseFailure(new VersionRequest(), "ERROR\r\n")).kind());
    assertEquals(
        "object too large for cache",
        ((ServerErrorException)
                parseFailure(
                    new StoreRequest(Keys.key("k"), 0, 0, utf8("x")),
                    "SERVER_ERROR object too large for cache\r\n"))
            .serverMessage());
  }

  @Test
  void shouldEncodeAndParseDelete() {
    assertEquals("delete user:1\r\n", encoded(new DeleteRequest(Keys.key("user:1"))));
    assertEquals(true, parse(() -> new DeleteRequest(Keys.key("k")), "DELETED\r\n"));
    assertEquals(false, parse(() -> new DeleteRequest(Keys.key("k")), "NOT_FOUND\r\n"));
  }

  @Test
  void shouldEncodeAndParseUpdate() {
    String json = "{\"incr\":{\"visits\":1}}";
    assertEquals(
        "update user:42 21\r\n" + json + "\r\n",
        encoded(new UpdateRequest(Keys.key("user:42"), utf8(json))));
    assertEquals(
        UpdateResult.UPDATED,
        parse(() -> new UpdateRequest(Keys.key("k"), utf8("{}")), "UPDATED\r\n"));
    assertEquals(
        UpdateResult.IGNORED,
        parse(() -> new UpdateRequest(Keys.key("k"), utf8("{}")), "IGNORED\r\n"));
    ServerErrorException e =
        (ServerErrorException)
            parseFailure(
                new UpdateRequest(Keys.key("k"), utf8("{}")), "CLIENT_ERROR not a profile\r\n");
    assertEquals("not a profile", e.serverMessage());
  }

  @Test
  void shouldEncodeSegmentDefinitionsAsADataBlock() {
    String expression = "country == \"DK\" and count(purchase, 30d) >= 3";
    assertEquals(
        "local segdef dk_buyers " + utf8(expression).length + "\r\n" + expression + "\r\n",
        encoded(new SegDefineRequest("dk_buyers", expression)));
    assertEquals(42L, parse(() -> new SegDefineRequest("s", "x"), "DEFINED 42\r\n"));
  }

  @Test
  void shouldEncodeADryRunAsASegmentDefinitionWithItsSample() {
    assertEquals(
        "local segdef dk 15 dryrun 3\r\ncountry == \"DK\"\r\n",
        encoded(new SegDryRunRequest("dk", "country == \"DK\"", 3)));
    assertThrows(IllegalArgumentException.class, () -> new SegDryRunRequest("dk", "x", 1001));
    assertThrows(IllegalArgumentException.class, () -> new SegDryRunRequest("dk", "x", -1));
    assertThrows(IllegalArgumentException.class, () -> new SegDryRunRequest("a b", "x", 1));
  }

  @Test
  void shouldParseADryRunsCountAndSample() {
    assertEquals(
        new SegmentDryRun(1234, List.of("user:1", "user:\u00f6")),
        parse(
            () -> new SegDryRunRequest("dk", "x", 2),
            "COUNT 1234\r\nKEY user:1\r\nKEY user:%C3%B6\r\nEND\r\n"));
    assertEquals(
        new SegmentDryRun(7, List.of()),
        parse(() -> new SegDryRunRequest("dk", "x", 0), "COUNT 7\r\nEND\r\n"));
    BadExpressionException e =
        assertInstanceOf(
            BadExpressionException.class,
            parseFailure(
                new SegDryRunRequest("dk", "country ==", 2),
                "CLIENT_ERROR bad expression at position 10: expected a value\r\n"));
    assertEquals(10, e.position());
  }

  @Test
  void shouldRejectADryRunWithMoreKeysThanItsSampleOrWithoutACount() {
    ByteBuf buffer =
        Unpooled.copiedBuffer("COUNT 5\r\nKEY a\r\nKEY b\r\nEND\r\n", StandardCharsets.UTF_8);
    try {
      SegDryRunRequest request = new SegDryRunRequest("dk", "x", 1);
      assertThrows(ReplyFormatException.class, () -> request.decode(buffer));
    } finally {
      buffer.release();
    }
    ByteBuf noCount = Unpooled.copiedBuffer("KEY a\r\nEND\r\n", StandardCharsets.UTF_8);
    try {
      SegDryRunRequest request = new SegDryRunRequest("dk", "x", 1);
      assertThrows(ReplyFormatException.class, () -> request.decode(noCount));
    } finally {
      noCount.release();
    }
  }

  @Test
  void shouldParseABadExpressionWithItsPosition() {
    BadExpressionException e =
        assertInstanceOf(
            BadExpressionException.class,
            parseFailure(
                new SegDefineRequest("s", "country =="),
                "CLIENT_ERROR bad expression at position 10: expected a value\r\n"));
    assertEquals(10, e.position());
    assertEquals("expected a value", e.reason());
  }

  @Test
  void shouldEncodeAndParseSegmentDrop() {
    assertEquals("local segdrop churned\r\n", encoded(new SegDropRequest("churned")));
    assertEquals(true, parse(() -> new SegDropRequest("s"), "DROPPED\r\n"));
    assertEquals(false, parse(() -> new SegDropRequest("s"), "NOT_FOUND\r\n"));
  }

  @Test
  void shouldParseASegmentListWithExpressionsContainingSpaces() {
    assertEquals("local seglist\r\n", encoded(new SegListRequest()));
    List<SegmentInfo> list =
        parse(
            SegListRequest::new,
            "SEGMENT dk 2 15\r\n"
                + "country == \"DK\"\r\n"
                + "SEGMENT vip 0 13\r\n"
                + "\"vip\" in tags\r\n"
                + "END\r\n");
    assertEquals(
        List.of(
            new SegmentInfo("dk", 2, "country == \"DK\""),
            new SegmentInfo("vip", 0, "\"vip\" in tags")),
        list);
    assertEquals(List.of(), parse(SegListRequest::new, "END\r\n"));
  }

  @Test
  void shouldEncodeAndParseCounts() {
    assertEquals(
        "local segcount 25\r\ndk_buyers and not churned\r\n",
        encoded(CountRequest.segment("dk_buyers and not churned")));
    assertEquals("local filtercount 8\r\nage > 30\r\n", encoded(CountRequest.filter("age > 30")));
    assertEquals(1234567890123L, parse(() -> CountRequest.segment("a"), "COUNT 1234567890123\r\n"));
  }

  @Test
  void shouldEncodeMembersWithAndWithoutACursor() {
    assertEquals(
        "local segmembers 2 100\r\ndk\r\n", encoded(MembersRequest.segment("dk", 100, null)));
    assertEquals(
        "local filtermembers 8 10 c:7f\r\nage > 30\r\n",
        encoded(MembersRequest.filter("age > 30", 10, "c:7f")));
  }

  @Test
  void shouldParseAPageOfMembersWithItsNextCursor() {
    assertEquals(
        new MembersPage(List.of("user:1", "user:2"), "c:2"),
        parse(
            () -> MembersRequest.segment("dk", 2, null),
            "KEY user:1\r\nKEY user:2\r\nNEXT c:2\r\n"));
    assertEquals(
        new MembersPage(List.of("user:3"), null),
        parse(() -> MembersRequest.segment("dk", 2, "c:2"), "KEY user:3\r\nEND\r\n"));
    assertEquals(
        new MembersPage(List.of(), null),
        parse(() -> MembersRequest.segment("dk", 2, null), "END\r\n"));
  }

  @Test
  void shouldParseSegmentsOfAKey() {
    assertEquals("segof user:42\r\n", encoded(new SegOfRequest(Keys.key("user:42"))));
    assertEquals(
        List.of("dk_buyers", "vip"),
        parse(() -> new SegOfRequest(Keys.key("k")), "IN dk_buyers\r\nIN vip\r\nEND\r\n"));
    assertEquals(List.of(), parse(() -> new SegOfRequest(Keys.key("k")), "END\r\n"));
  }

  @Test
  void shouldParseSegmentsOfAKeyWithTheirEnteredTimes() {
    assertEquals("segof user:42 since\r\n", encoded(new SegOfSinceRequest(Keys.key("user:42"))));
    assertEquals(
        List.of(
            new SegmentMembership("dk_buyers", Instant.ofEpochMilli(1795000000000L)),
            new SegmentMembership("vip", Instant.ofEpochSecond(0))),
        parse(
            () -> new SegOfSinceRequest(Keys.key("k")),
            "IN dk_buyers 1795000000000\r\nIN vip 0\r\nEND\r\n"));
    assertEquals(List.of(), parse(() -> new SegOfSinceRequest(Keys.key("k")), "END\r\n"));
    assertThrows(
        ReplyFormatException.class,
        () -> feed(new SegOfSinceRequest(Keys.key("k")), utf8("IN a 1\r\nIN b\r\n"), 64),
        "a line without its time, from a node that ignored since");
  }

  @Test
  void shouldRejectAnErrorInTheMiddleOfAMultiLineReply() {
    assertThrows(
        ReplyFormatException.class,
        () -> feed(new SegOfRequest(Keys.key("k")), utf8("IN a\r\nSERVER_ERROR x\r\n"), 64));
  }

  @Test
  void shouldEncodeAndParseWatch() {
    assertEquals("local watch dk vip\r\n", encoded(new WatchRequest(List.of("dk", "vip"))));
    assertEquals(2, parse(() -> new WatchRequest(List.of("dk", "vip")), "WATCHING 2\r\n"));
  }

  @Test
  void shouldReadChangeAndMissedLines() {
    ByteBuf in =
        Unpooled.copiedBuffer(
            "CHANGE enter dk user:1 1795305600000\r\n"
                + "CHANGE leave vip user:2 5\r\n"
                + "MISSED 17\r\n"
                + "END\r\n",
            StandardCharsets.UTF_8);
    try {
      assertEquals(
          new PushLine.Change(
              "dk", "user:1", SegmentChange.Kind.ENTER, Instant.ofEpochMilli(1_795_305_600_000L)),
          PushLines.read(in));
      assertEquals(
          new PushLine.Change("vip", "user:2", SegmentChange.Kind.LEAVE, Instant.ofEpochMilli(5)),
          PushLines.read(in));
      assertEquals(new PushLine.Missed(17), PushLines.read(in));
      assertEquals(PushLine.NOT_A_PUSH, PushLines.read(in));
      assertEquals(5, in.readableBytes(), "a reply is left for its request");
    } finally {
      in.release();
    }
  }

  @Test
  void shouldWaitForMoreBytesBeforeTellingAPushFromAReply() {
    ByteBuf in = Unpooled.copiedBuffer("CHA", StandardCharsets.UTF_8);
    try {
      assertNull(PushLines.read(in));
      in.writeCharSequence("NGE enter dk k 1", StandardCharsets.UTF_8);
      assertNull(PushLines.read(in), "the line is not complete");
      in.writeCharSequence("\r\n", StandardCharsets.UTF_8);
      assertInstanceOf(PushLine.Change.class, PushLines.read(in));
    } finally {
      in.release();
    }
    ByteBuf count = Unpooled.copiedBuffer("CO", StandardCharsets.UTF_8);
    try {
      assertEquals(PushLine.NOT_A_PUSH, PushLines.read(count));
    } finally {
      count.release();
    }
  }

  @Test
  void shouldRejectAMalformedChangeLine() {
    for (String bad :
        List.of(
            "CHANGE move dk k 1\r\n",
            "CHANGE enter dk k\r\n",
            "CHANGE enter dk k x\r\n",
            "MISSED x\r\n",
            "MISSED 1 2\r\n")) {
      ByteBuf in = Unpooled.copiedBuffer(bad, StandardCharsets.UTF_8);
      try {
        assertThrows(ReplyFormatException.class, () -> PushLines.read(in), bad);
      } finally {
        in.release();
      }
    }
  }

  @Test
  void shouldRejectKeysThatCannotGoOnACommandLine() {
    assertThrows(IllegalArgumentException.class, () -> Keys.key(""));
    assertThrows(IllegalArgumentException.class, () -> Keys.key("a b"));
    assertThrows(IllegalArgumentException.class, () -> Keys.key("a\r\nflush_all"));
    assertThrows(IllegalArgumentException.class, () -> Keys.key("k".repeat(251)));
    assertEquals(250, Keys.key("k".repeat(250)).length);
    assertThrows(IllegalArgumentException.class, () -> new SegDropRequest("two words"));
    assertThrows(IllegalArgumentException.class, () -> MembersRequest.segment("dk", 0, null));
  }

  @Test
  void shouldParseStatsInTheNodesOrder() {
    Map<String, String> stats =
        parse(
            () -> new StatsRequest(""),
            "STAT pid 42\r\nSTAT version 1.6.18-whack-0.1.0\r\nSTAT rusage_user 0.5 \r\nEND\r\n");
    assertEquals(List.of("pid", "version", "rusage_user"), List.copyOf(stats.keySet()));
    assertEquals("0.5 ", stats.get("rusage_user"));
    assertEquals(Map.of(), parse(() -> new StatsRequest("settings"), "END\r\n"));
    assertEquals("stats settings\r\n", encoded(new StatsRequest("settings")));
    assertInstanceOf(
        ServerErrorException.class, parseFailure(new StatsRequest("frob"), "ERROR\r\n"));
    assertThrows(IllegalArgumentException.class, () -> new StatsRequest("two words"));
  }

  @Test
  void shouldParseADumpPageWithWholeProfiles() {
    DumpPage page =
        parse(
            () -> new DumpRequest("dk and not vip", 2, null),
            "PROFILE user:1 10\r\n{\"a\":\"\r\n\"}\r\nPROFILE u\u00e9:2 2\r\n{}\r\nNEXT 17\r\n");
    assertEquals(
        List.of(
            new dev.whack.client.DumpedProfile(
                "user:1", "{\"a\":\"\r\n\"}".getBytes(StandardCharsets.UTF_8)),
            new dev.whack.client.DumpedProfile("u\u00e9:2", "{}".getBytes(StandardCharsets.UTF_8))),
        page.profiles());
    assertEquals("17", page.nextCursor());
    DumpPage last = parse(() -> new DumpRequest(null, 5, "17"), "END\r\n");
    assertEquals(List.of(), last.profiles());
    assertNull(last.nextCursor());
    assertEquals(
        "local segdump 14 2\r\ndk and not vip\r\n",
        encoded(new DumpRequest("dk and not vip", 2, null)));
    assertEquals("local segdump 0 5 17\r\n\r\n", encoded(new DumpRequest(null, 5, "17")));
  }

  @Test
  void shouldRejectADumpReplyThatIsNotOne() {
    assertInstanceOf(
        BadExpressionException.class,
        parseFailure(
            new DumpRequest("x and", 5, null),
            "CLIENT_ERROR bad expression at position 5: expected a name\r\n"));
    DumpRequest spaced = new DumpRequest(null, 5, null);
    ByteBuf buffer = Unpooled.copiedBuffer("PROFILE a b 2\r\n{}\r\n", StandardCharsets.UTF_8);
    try {
      assertThrows(ReplyFormatException.class, () -> spaced.decode(buffer));
    } finally {
      buffer.release();
    }
  }

  @Test
  void shouldDecodePercentEncodedKeysInListings() {
    assertEquals("user:\u00f6\u2603", Keys.unescape("user:%C3%B6%E2%98%83"));
    assertEquals("50%", Keys.unescape("50%25"));
    assertEquals("plain:key", Keys.unescape("plain:key"));
    org.junit.jupiter.api.Assertions.assertThrows(
        ReplyFormatException.class, () -> Keys.unescape("bad%4"));
    org.junit.jupiter.api.Assertions.assertThrows(
        ReplyFormatException.class, () -> Keys.unescape("bad%zz"));
  }
}
