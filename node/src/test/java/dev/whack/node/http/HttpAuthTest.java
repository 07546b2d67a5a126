package dev.whack.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.security.BasicCredentials;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.TestUsers;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP port with an auth file: HTTP Basic credentials checked by the node's users, 401 with the
 * challenge and the API's error body for none or bad ones, reads for every role, and answers in
 * request order while a password is being checked.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpAuthTest {
  private static final String UNAUTHENTICATED =
      "{\"error\":\"unauthenticated\",\"message\":\"this node requires authentication: send HTTP"
          + " Basic credentials of a user of its auth file (docs/security.md)\"}";
  private static final String FAILED =
      "{\"error\":\"unauthenticated\",\"message\":\"authentication failed\"}";

  private EmbeddedNode node;
  private HttpClient http;

  @BeforeAll
  void start(@TempDir Path dir) {
    Path users = TestUsers.write(dir);
    node = EmbeddedNode.start(c -> c.authFile(users).httpPort(FreePorts.take(1)[0]));
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private HttpResponse<String> get(String path, String authorization) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.node().httpPort() + path))
            .timeout(Duration.ofSeconds(5));
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String basic(String user) {
    return BasicCredentials.header(user, TestUsers.password(user));
  }

  private static void assertUnauthenticated(HttpResponse<String> response, String body) {
    assertEquals(401, response.statusCode(), response.body());
    assertEquals(
        "Basic realm=\"whack\"", response.headers().firstValue("WWW-Authenticate").orElse(null));
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(null));
    assertEquals(body, response.body());
  }

  @Test
  void shouldAnswer401WithTheChallengeWithoutCredentials() throws Exception {
    for (String path : List.of("/health", "/segments", "/profiles/p", "/nowhere")) {
      assertUnauthenticated(get(path, null), UNAUTHENTICATED);
    }
  }

  @Test
  void shouldAnswer401ForAWrongPasswordAndAnUnknownUserAlike() throws Exception {
    assertUnauthenticated(get("/health", BasicCredentials.header("reader", "not-the-pw")), FAILED);
    assertUnauthenticated(get("/health", BasicCredentials.header("nobody", "reader-pw")), FAILED);
  }

  @Test
  void shouldAnswer401ForCredentialsThatAreNotBasic() throws Exception {
    for (String authorization :
        List.of("Bearer abc", "Basic !!!", "Basic " + base64("no-colon"), "Basic")) {
      HttpResponse<String> response = get("/health", authorization);
      assertEquals(401, response.statusCode(), authorization);
      assertTrue(response.body().contains("is not HTTP Basic credentials"), response.body());
    }
  }

  @Test
  void shouldServeReadsToEveryRole() throws Exception {
    for (String user : TestUsers.NAMES) {
      HttpResponse<String> health = get("/health", basic(user));
      assertEquals(200, health.statusCode(), user + ": " + health.body());
      HttpResponse<String> missing = get("/profiles/nosuch", basic(user));
      assertEquals(404, missing.statusCode(), user + ": " + missing.body());
      assertEquals(200, get("/segments", basic(user)).statusCode(), user);
    }
  }

  @Test
  void shouldTellNothingOfTheApiBeforeAuthentication() throws Exception {
    HttpResponse<String> post =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + node.node().httpPort() + "/profiles/p"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertUnauthenticated(post, UNAUTHENTICATED);
    HttpResponse<String> authorized =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + node.node().httpPort() + "/profiles/p"))
                .header("Authorization", basic("admin"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(405, authorized.statusCode());
  }

  @Test
  void shouldAnswerPipelinedRequestsInOrderWhilePasswordsAreChecked() throws IOException {
    // A fresh password is checked on the auth thread; the requests behind wait for it in order.
    String good = "Authorization: " + basic("writer") + "\r\n";
    String bad = "Authorization: " + BasicCredentials.header("writer", "wrong") + "\r\n";
    StringBuilder requests = new StringBuilder();
    for (String header : List.of(good, bad, "", good, good)) {
      requests.append("GET /health HTTP/1.1\r\nHost: x\r\n").append(header).append("\r\n");
    }
    requests.append("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n").append(good);
    requests.append("\r\n");
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", node.node().httpPort()), 2000);
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(requests.toString().getBytes(StandardCharsets.US_ASCII));
      assertEquals(List.of(200, 401, 401, 200, 200, 200), statuses(socket.getInputStream()));
    }
  }

  /** The status of every response on a connection until it closes. */
  private static List<Integer> statuses(InputStream in) throws IOException {
    String all = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    List<Integer> statuses = new ArrayList<>();
    int at = 0;
    while ((at = all.indexOf("HTTP/1.1 ", at)) >= 0) {
      statuses.add(Integer.parseInt(all.substring(at + 9, at + 12)));
      at += 12;
    }
    return statuses;
  }

  private static String base64(String text) {
    return java.util.Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
