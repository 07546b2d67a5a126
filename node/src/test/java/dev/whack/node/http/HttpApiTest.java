package dev.whack.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The REST read API over real sockets against a real node (docs/http.md): every route, every error
 * with its status and body, HEAD, keep-alive and pipelining on a raw socket, the codec's limits,
 * keys of any bytes, and the metrics the requests leave.
 */
class HttpApiTest {
  private static EmbeddedNode node;
  private static int http;

  private static final String USER_1 = "{\"country\":\"DK\",\"age\":31,\"tags\":[\"vip\"]}";

  private static final long STARTED = System.currentTimeMillis();

  @BeforeAll
  static void start() {
    http = FreePorts.take(1)[0];
    node = EmbeddedNode.start(c -> c.httpPort(http));
    assertEquals(http, node.node().httpPort());
    try (RawConnection c = node.connect()) {
      set(c, "user:1", USER_1);
      set(c, "user:2", "{\"country\":\"SE\",\"age\":40}");
      set(c, "plain", "hello");
      set(c, "doc", "{\"a\":{\"b\":1}}"); // JSON, but not a profile: opaque
      set(c, "a+b", "{\"plus\":true}");
      set(c, "user:\u00c3\u00b6", "{\"utf8\":true}"); // user:ö in UTF-8, one char per byte
      define(c, "dk", "country == \"DK\"");
      define(c, "vip", "\"vip\" in tags");
      define(c, "adult", "age >= 18");
    }
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  static void set(RawConnection c, String key, String value) {
    byte[] v = value.getBytes(StandardCharsets.UTF_8);
    c.send("set " + key + " 0 0 " + v.length + "\r\n").send(v).send("\r\n");
    assertEquals("STORED\r\n", c.readLine());
  }

  static void define(RawConnection c, String name, String expression) {
    c.send("segdef " + name + " " + expression.length() + "\r\n" + expression + "\r\n");
    assertTrue(c.readLine().startsWith("DEFINED "));
  }

  private static HttpResponse<String> get(String path) {
    return HttpWire.get(http, path);
  }

  private static void assertAnswer(int status, String body, HttpResponse<String> response) {
    assertEquals(status, response.statusCode(), response.body());
    assertEquals(body, response.body());
    assertEquals("application/json", response.headers().firstValue("content-type").orElse(""));
  }

  @Test
  void shouldReadAProfileAsTheMemcachedGetReturnsIt() {
    String memcached;
    try (RawConnection c = node.connect()) {
      c.send("get user:1\r\n");
      String header = c.readLine();
      int length = Integer.parseInt(header.strip().split(" ")[3]);
      memcached = new String(c.read(length), StandardCharsets.UTF_8);
    }
    assertAnswer(200, memcached, get("/profiles/user:1"));
    assertAnswer(200, memcached, get("/profiles/user%3A1"));
  }

  @Test
  void shouldListTheSegmentsOfAProfileInDefinitionOrder() {
    assertAnswer(200, "[\"dk\",\"vip\",\"adult\"]", get("/profiles/user:1/segments"));
    assertAnswer(200, "[\"adult\"]", get("/profiles/user:2/segments"));
    assertAnswer(200, "[\"adult\"]", get("/profiles/user:2/segments?since=false"));
  }

  @Test
  void shouldSayWhenEachMembershipBeganWhenAsked() {
    String body = get("/profiles/user:2/segments?since").body();
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile(
                "\\[\\{\"segment\":\"adult\",\"entered\":\"([^\"]+)\",\"entered_ms\":([0-9]+)\\}\\]")
            .matcher(body);
    assertTrue(m.matches(), body);
    long entered = Long.parseLong(m.group(2));
    assertEquals(java.time.Instant.ofEpochMilli(entered).toString(), m.group(1));
    assertEquals(0, entered % 1000, "kept to the second");
    assertTrue(entered <= System.currentTimeMillis() && entered > STARTED - 1000, body);
    assertEquals(body, get("/profiles/user:2/segments?since=true").body());
    HttpResponse<String> bad = get("/profiles/user:2/segments?since=maybe");
    assertEquals(400, bad.statusCode());
    assertTrue(bad.body().contains("since is true or false"), bad.body());
  }

  @Test
  void shouldCountASegmentAndASegmentQuery() {
    assertAnswer(200, "{\"segment\":\"adult\",\"count\":2}", get("/segments/adult/count"));
    assertAnswer(
        200,
        "{\"segment\":\"adult and not dk\",\"count\":1}",
        get("/segments/adult%20and%20not%20dk/count"));
    assertAnswer(
        200,
        "{\"segment\":\"adult\",\"count\":2,\"missing\":{}}",
        get("/segments/adult/count?partial"));
    assertAnswer(200, "{\"segment\":\"dk\",\"count\":1}", get("/segments/dk/count?partial=false"));
  }

  @Test
  void shouldListSegmentsWithTheirExpressionsAndSizes() {
    assertAnswer(
        200,
        "[{\"name\":\"dk\",\"expression\":\"country == \\\"DK\\\"\",\"size\":1},"
            + "{\"name\":\"vip\",\"expression\":\"\\\"vip\\\" in tags\",\"size\":1},"
            + "{\"name\":\"adult\",\"expression\":\"age >= 18\",\"size\":2}]",
        get("/segments"));
  }

  @Test
  void shouldAnswerHealthWithTheNodesVersion() {
    assertAnswer(
        200,
        "{\"status\":\"ok\",\"version\":\"" + dev.whack.node.WhackNode.VERSION + "\"}",
        get("/health"));
  }

  @Test
  void shouldAnswerHeadWithTheHeadersOfGetAndNoBody() {
    int length = get("/profiles/user:1").body().getBytes(StandardCharsets.UTF_8).length;
    try (RawConnection c = new RawConnection("127.0.0.1", http)) {
      c.send(
          "HEAD /profiles/user:1 HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n");
      HttpWire.Response head = HttpWire.read(c, false);
      assertEquals(200, head.status());
      assertEquals(String.valueOf(length), head.header("content-length"));
      HttpWire.Response next = HttpWire.read(c); // no body came between: the next answer is whole
      assertEquals(200, next.status());
      assertTrue(next.body().startsWith("{\"status\":\"ok\""), next.body());
    }
  }

  @Test
  void shouldSayWhetherAMissingProfileIsAbsentOrAnOpaqueValue() {
    assertAnswer(
        404,
        "{\"error\":\"no_such_key\",\"message\":\"no item is stored under the key\","
            + "\"key\":\"nobody\"}",
        get("/profiles/nobody"));
    assertAnswer(
        404,
        "{\"error\":\"not_a_profile\",\"message\":\"the key holds an opaque memcached value, not a"
            + " profile\",\"key\":\"plain\"}",
        get("/profiles/plain"));
    assertEquals(404, get("/profiles/doc").statusCode());
    assertTrue(get("/profiles/doc").body().contains("not_a_profile"));
    assertEquals(404, get("/profiles/nobody/segments").statusCode());
    assertTrue(get("/profiles/plain/segments").body().contains("not_a_profile"));
  }

  @Test
  void shouldRefuseBadKeysWith400() {
    HttpResponse<String> empty = get("/profiles//segments");
    assertEquals(400, empty.statusCode());
    assertTrue(empty.body().startsWith("{\"error\":\"bad_key\""), empty.body());
    HttpResponse<String> long251 = get("/profiles/" + "k".repeat(251));
    assertEquals(400, long251.statusCode());
    assertTrue(long251.body().contains("not 251"), long251.body());
    assertEquals(404, get("/profiles/" + "k".repeat(250)).statusCode(), "250 bytes is a key");
    // Counted once decoded: 250 bytes pass, 251 do not.
    assertEquals(404, get("/profiles/" + "%41".repeat(250)).statusCode());
    assertEquals(400, get("/profiles/" + "%41".repeat(251)).statusCode());
    HttpResponse<String> reserved = get("/profiles/_whack%2Fsize%2Fdk");
    assertEquals(400, reserved.statusCode());
    assertTrue(reserved.body().contains("virtual keys"), reserved.body());
  }

  @Test
  void shouldRefuseBadPercentEncodingWith400() {
    try (RawConnection c = new RawConnection("127.0.0.1", http)) {
      c.send("GET /profiles/a%4 HTTP/1.1\r\nHost: x\r\n\r\nGET /profiles/a%zz HTTP/1.1\r\n\r\n");
      HttpWire.Response first = HttpWire.read(c);
      assertEquals(400, first.status());
      assertTrue(first.body().startsWith("{\"error\":\"bad_request\""), first.body());
      assertTrue(first.body().contains("position 11"), first.body());
      assertEquals(400, HttpWire.read(c).status(), "the connection goes on after a bad target");
    }
  }

  @Test
  void shouldAddComputedTraitsOverTheWindowWithMinMaxOfValuedEventsAndExactTimes() {
    int port = FreePorts.take(1)[0];
    ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
    try (EmbeddedNode timed = EmbeddedNode.startWithClock(clock, c -> c.httpPort(port));
        RawConnection c = timed.connect()) {
      String update =
          "{\"events\":[{\"name\":\"buy\",\"value\":20.0,\"time\":\"2026-11-01T08:00:00.125Z\"},"
              + "{\"name\":\"buy\",\"value\":5,\"time\":\"2026-11-19T12:00:00Z\"},"
              + "{\"name\":\"buy\",\"value\":7.5,\"time\":\"2026-11-20T09:00:00Z\"},"
              + "{\"name\":\"buy\",\"time\":\"2026-11-20T09:30:00Z\"},"
              + "{\"name\":\"view\",\"time\":\"2026-11-20T09:59:59.999Z\"}]}";
      c.send("update user:t " + update.length() + "\r\n" + update + "\r\n");
      assertEquals("UPDATED\r\n", c.readLine());
      String profile =
          "{\"$events\":{\"buy\":{\"$first\":\"2026-11-01T08:00:00.125Z\","
              + "\"$last\":\"2026-11-20T09:30:00Z\",\"2026-11-01\":[1,20.0,400.0],"
              + "\"2026-11-19\":[1,5.0,25.0],\"2026-11-20\":[2,7.5,56.25,7.5,7.5]},"
              + "\"view\":{\"$first\":\"2026-11-20T09:59:59.999Z\","
              + "\"$last\":\"2026-11-20T09:59:59.999Z\",\"2026-11-20\":[1]}}";
      HttpResponse<String> twoDays = get(port, "/profiles/user:t?window=2d");
      // the value-less buy counts (and in avg as 0) but is neither min nor max; a window without
      // a valued event has null avg, min, max; first and last are the series', whatever the window
      assertAnswer(
          200,
          profile
              + ",\"$traits\":{\"buy\":{\"count\":3,\"sum\":12.5,\"avg\":4.166666666666667,"
              + "\"min\":5.0,\"max\":7.5,\"first\":\"2026-11-01T08:00:00.125Z\","
              + "\"last\":\"2026-11-20T09:30:00Z\"},\"view\":{\"count\":1,\"sum\":0.0,"
              + "\"avg\":0.0,\"min\":null,\"max\":null,\"first\":\"2026-11-20T09:59:59.999Z\","
              + "\"last\":\"2026-11-20T09:59:59.999Z\"}}}",
          twoDays);
      HttpResponse<String> month = get(port, "/profiles/user:t?window=30d");
      assertTrue(month.body().contains("\"buy\":{\"count\":4,\"sum\":32.5,"), month.body());
      assertTrue(month.body().contains("\"min\":5.0,\"max\":20.0,"), month.body());
      clock.advanceMillis(86_400_000L * 5);
      HttpResponse<String> later = get(port, "/profiles/user:t?window=1d");
      assertTrue(
          later.body().contains("\"buy\":{\"count\":0,\"sum\":0.0,\"avg\":null,\"min\":null"),
          later.body());
      assertAnswer(200, profile + "}", get(port, "/profiles/user:t"));
    }
  }

  private static HttpResponse<String> get(int port, String path) {
    return HttpWire.get(port, path);
  }

  @Test
  void shouldRefuseUnknownParametersNamingThem() {
    assertAnswer(
        400,
        "{\"error\":\"unknown_parameter\",\"message\":\"unknown parameter color: this route"
            + " takes window, half_life, dimensions\",\"parameter\":\"color\"}",
        get("/profiles/user:1?color=red"));
    HttpResponse<String> decay = get("/profiles/user:1?window=10d&half_life=7");
    assertEquals(400, decay.statusCode());
    assertTrue(decay.body().contains("positive duration"), decay.body());
    assertTrue(decay.body().endsWith("\"parameter\":\"half_life\"}"), decay.body());
    for (String bad : new String[] {"0d", "61d", "10", "7h", "-1d", "1e1d", ""}) {
      HttpResponse<String> window = get("/profiles/user:1?window=" + bad);
      assertEquals(400, window.statusCode(), bad);
      assertTrue(window.body().startsWith("{\"error\":\"bad_parameter\""), window.body());
      assertTrue(window.body().endsWith("\"parameter\":\"window\"}"), window.body());
    }
    HttpResponse<String> count = get("/segments/dk/count?limit=3");
    assertEquals(400, count.statusCode());
    assertTrue(count.body().contains("this route takes partial"), count.body());
    HttpResponse<String> partial = get("/segments/dk/count?partial=maybe");
    assertEquals(400, partial.statusCode());
    assertTrue(partial.body().startsWith("{\"error\":\"bad_parameter\""), partial.body());
    HttpResponse<String> twice = get("/segments/dk/count?partial&partial");
    assertEquals(400, twice.statusCode());
    assertTrue(twice.body().contains("given twice"), twice.body());
  }

  @Test
  void shouldRefuseABadQueryWithItsPositionAndAnUnknownSegmentWith404() {
    HttpResponse<String> bad = get("/segments/dk%20and/count");
    assertEquals(400, bad.statusCode());
    assertTrue(
        bad.body()
            .startsWith("{\"error\":\"bad_query\",\"message\":\"bad expression at position 6: "),
        bad.body());
    assertTrue(bad.body().endsWith(",\"position\":6}"), bad.body());
    assertAnswer(
        404,
        "{\"error\":\"unknown_segment\",\"message\":\"unknown segment nope\",\"segment\":\"nope\"}",
        get("/segments/dk%20or%20nope/count"));
    assertEquals(400, get("/segments/%20/count").statusCode());
  }

  @Test
  void shouldRefuseMethodsOtherThanGetAndHeadWith405() {
    HttpResponse<String> post =
        HttpWire.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + "/profiles/user:1"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"x\":1}")));
    assertEquals(405, post.statusCode());
    assertEquals("GET, HEAD", post.headers().firstValue("allow").orElse(""));
    assertTrue(post.body().startsWith("{\"error\":\"method_not_allowed\""), post.body());
    HttpResponse<String> delete =
        HttpWire.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + "/profiles/user:1"))
                .DELETE());
    assertEquals(405, delete.statusCode());
    assertEquals(200, get("/profiles/user:1").statusCode(), "nothing was deleted");
  }

  @Test
  void shouldAnswer404ForAnUnknownRoute() {
    for (String path :
        new String[] {"/", "/profiles", "/profiles/user:1/preferences?color=red", "/x?y=1"}) {
      HttpResponse<String> r = get(path);
      assertEquals(404, r.statusCode(), path);
      assertTrue(r.body().startsWith("{\"error\":\"no_route\""), r.body());
    }
  }

  @Test
  void shouldRefuseAnOversizedRequestLineWith414AndClose() {
    try (RawConnection c = new RawConnection("127.0.0.1", http)) {
      c.send("GET /profiles/" + "k".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
      HttpWire.Response r = HttpWire.read(c);
      assertEquals(414, r.status());
      assertEquals("close", r.header("connection"));
      assertTrue(r.body().startsWith("{\"error\":\"uri_too_long\""), r.body());
      assertTrue(c.isClosedByPeer());
    }
    assertEquals(414, get("/profiles/" + "k".repeat(9000)).statusCode());
  }

  @Test
  void shouldRefuseOversizedHeadersWith431() {
    try (RawConnection c = new RawConnection("127.0.0.1", http)) {
      c.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "v".repeat(9000) + "\r\n\r\n");
      HttpWire.Response r = HttpWire.read(c);
      assertEquals(431, r.status());
      assertTrue(r.body().startsWith("{\"error\":\"headers_too_large\""), r.body());
      assertTrue(c.isClosedByPeer());
    }
  }

  @Test
  void shouldReadKeysWithSpacesPlusSignsAndAnyBytes() {
    byte[] key = {'a', ' ', 'b', 0x01, (byte) 0xFF, '/'};
    try (RawConnection c = node.connect()) {
      c.send(
          BinaryPacket.request(
              0x01, 0, 0, new byte[8], key, "{\"odd\":true}".getBytes(StandardCharsets.US_ASCII)));
      assertEquals(0, BinaryPacket.read(c).status());
    }
    assertAnswer(200, "{\"odd\":true}", get("/profiles/a%20b%01%FF%2F"));
    assertAnswer(200, "[]", get("/profiles/a%20b%01%FF%2F/segments"));
    HttpResponse<String> missing = get("/profiles/a%20b%01%FE");
    assertEquals(404, missing.statusCode());
    assertTrue(missing.body().endsWith("\"key\":\"a%20b%01%FE\"}"), missing.body());
    assertAnswer(200, "{\"plus\":true}", get("/profiles/a+b"));
    assertAnswer(200, "{\"utf8\":true}", get("/profiles/user:%C3%B6"));
    try (RawConnection c = new RawConnection("127.0.0.1", http)) {
      // Unencoded UTF-8 in the request line reads as the same bytes.
      c.send("GET /profiles/user:\u00c3\u00b6 HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals("{\"utf8\":true}", HttpWire.read(c).body());
    }
  }

  @Test
  void shouldAnswerPipelinedRequestsInOrderOnOneKeepAliveConnection() {
    try (RawConnection c = new RawConnection("127.0.0.1", http)) {
      StringBuilder requests = new StringBuilder();
      requests.append("GET /profiles/user:2 HTTP/1.1\r\nHost: x\r\n\r\n");
      requests.append("GET /profiles/nobody HTTP/1.1\r\nHost: x\r\n\r\n");
      requests.append("GET /segments/adult/count HTTP/1.1\r\nHost: x\r\n\r\n");
      requests.append("POST /segments HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
      requests.append("GET /profiles/user:1/segments HTTP/1.1\r\nHost: x\r\n\r\n");
      c.send(requests.toString()); // all at once: one write, read by the node in one batch
      assertEquals("{\"country\":\"SE\",\"age\":40}", HttpWire.read(c).body());
      assertEquals(404, HttpWire.read(c).status());
      assertEquals("{\"segment\":\"adult\",\"count\":2}", HttpWire.read(c).body());
      assertEquals(405, HttpWire.read(c).status());
      HttpWire.Response last = HttpWire.read(c);
      assertEquals("[\"dk\",\"vip\",\"adult\"]", last.body());
      assertEquals(null, last.header("connection"), "HTTP/1.1 keeps the connection by default");
      // The connection is still open for more.
      c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(200, HttpWire.read(c).status());
      assertFalse(c.isClosedByPeer());
    }
  }

  @Test
  void shouldCloseAfterTheAnswerThatAskedToClose() {
    try (RawConnection c = new RawConnection("127.0.0.1", http)) {
      c.send(
          "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
              + "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
      HttpWire.Response r = HttpWire.read(c);
      assertEquals(200, r.status());
      assertEquals("close", r.header("connection"));
      assertEquals("", c.readToEnd(), "nothing answers the request after the close");
    }
    try (RawConnection c = new RawConnection("127.0.0.1", http)) {
      c.send("GET /health HTTP/1.0\r\n\r\n"); // HTTP/1.0 closes unless asked to keep alive
      assertEquals(200, HttpWire.read(c).status());
      assertTrue(c.isClosedByPeer());
    }
    try (RawConnection c = new RawConnection("127.0.0.1", http)) {
      c.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      HttpWire.Response r = HttpWire.read(c);
      assertEquals("keep-alive", r.header("connection"));
      c.send("GET /profiles/user:2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      assertEquals(200, HttpWire.read(c).status());
    }
  }

  @Test
  void shouldAnswerWhatWasAskedBeforeTheClientEndedItsInput() {
    try (RawConnection c = new RawConnection("127.0.0.1", http)) {
      c.send(
          "GET /profiles/user:2 HTTP/1.1\r\nHost: x\r\n\r\nGET /segments/dk/count HTTP/1.1\r\n\r\n");
      c.endInput();
      String all = c.readToEnd();
      assertTrue(all.contains("{\"country\":\"SE\",\"age\":40}"), all);
      assertTrue(all.endsWith("{\"segment\":\"dk\",\"count\":1}"), all);
    }
  }

  @Test
  void shouldCountRequestsByRouteAndStatusInTheNodesMetrics() {
    get("/profiles/user:1");
    get("/profiles/nobody");
    get("/nowhere");
    String scrape = node.node().metrics().scrape();
    assertTrue(
        scrape.contains("whack_http_requests_total{route=\"profile\",status=\"200\"}"), scrape);
    assertTrue(
        scrape.contains("whack_http_requests_total{route=\"profile\",status=\"404\"}"), scrape);
    assertTrue(scrape.contains("whack_http_requests_total{route=\"none\",status=\"404\"}"), scrape);
    assertTrue(
        scrape.contains("whack_http_request_latency_seconds_bucket{route=\"profile\",le="), scrape);
    assertFalse(
        scrape.contains("whack_http_requests_total{route=\"health\",status=\"500\"}"),
        "only the statuses that happened are listed");
  }
}
