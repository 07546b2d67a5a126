package dev.whack.node.security;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import dev.whack.node.testing.TestUsers;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile client can do to a node with {@code --auth-file} (found in a review of the auth
 * code): guesses that outlive their connections, a connection that never logs in, checks queued
 * across a reload, a reader taking a writer's recache token.
 */
class AuthAbuseTest {
  @TempDir Path dir;

  private static String token(String user, String password) {
    String t = user + " " + password;
    return "set a 0 0 " + t.length() + "\r\n" + t + "\r\n";
  }

  private static long timedLogin(EmbeddedNode node, String user, String password)
      throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", node.port()), 5_000);
      s.setSoTimeout(120_000);
      long start = System.nanoTime();
      s.getOutputStream().write(token(user, password).getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      StringBuilder line = new StringBuilder();
      for (int b; (b = in.read()) >= 0 && b != '\n'; ) {
        line.append((char) b);
      }
      assertEquals("STORED\r", line.toString());
      return (System.nanoTime() - start) / 1_000_000;
    }
  }

  @Test
  void shouldNotCheckThePasswordsOfConnectionsAlreadyClosed() throws Exception {
    Path file = dir.resolve("users");
    int iterations = 100_000;
    Files.writeString(
        file,
        AuthFile.line("alice", Role.READ, PasswordHash.of("alice-pw".toCharArray(), iterations))
            + "\n"
            + AuthFile.line("bob", Role.READ, PasswordHash.of("bob-pw".toCharArray(), iterations))
            + "\n");
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.authFile(file))) {
      long one = timedLogin(node, "bob", "bob-pw");
      for (int i = 0; i < 40; i++) {
        try (RawConnection c = node.connect()) {
          c.send(token("nobody", "guess" + i));
        }
      }
      long after = timedLogin(node, "alice", "alice-pw");
      assertTrue(
          after < 5 * one + 1_000,
          "a login waited "
              + after
              + " ms behind the checks of 40 connections already closed (one check: "
              + one
              + " ms)");
    }
  }

  @Test
  void shouldCloseAConnectionThatNeverAuthenticates() throws Exception {
    Path users = TestUsers.write(dir);
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.authFile(users));
        RawConnection c = node.connect()) {
      long start = System.nanoTime();
      while (true) {
        try {
          c.send("version\r\n");
          assertEquals("CLIENT_ERROR unauthenticated\r\n", c.readLine());
        } catch (RuntimeException closed) {
          break;
        }
        assertTrue(
            System.nanoTime() - start < (Authenticator.LOGIN_DEADLINE_MILLIS + 5_000) * 1_000_000,
            "still open past the login deadline");
        Thread.sleep(500);
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(millis >= Authenticator.LOGIN_DEADLINE_MILLIS - 1_000, "closed after " + millis);
    }
  }

  @Test
  void shouldNotLetInAUserThatAReloadRemovedWhileTheCheckWaited() throws Exception {
    Path file = dir.resolve("users");
    Files.writeString(
        file,
        AuthFile.line("alice", Role.ADMIN, PasswordHash.of("alice-pw".toCharArray(), 1_000_000))
            + "\n");
    try (Authenticator auth = Authenticator.load(file)) {
      CompletableFuture<User> blocker = auth.check("nobody", "x");
      CompletableFuture<User> queued = auth.check("alice", "alice-pw");
      Files.writeString(file, TestUsers.line("bob", "bob-pw", Role.READ) + "\n");
      assertEquals(1, auth.reload());
      assertNull(blocker.get(60, SECONDS));
      assertNull(auth.check("alice", "alice-pw").get(60, SECONDS), "alice is gone");
      assertNull(queued.get(60, SECONDS), "a check queued before the reload let alice in");
    }
  }

  @Test
  void shouldNotGiveAReaderTheRecacheToken() {
    Path users = TestUsers.write(dir);
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.authFile(users));
        RawConnection writer = node.connect();
        RawConnection reader = node.connect()) {
      writer.send(TestUsers.textAuth("writer"));
      assertEquals("STORED\r\n", writer.readLine());
      reader.send(TestUsers.textAuth("reader"));
      assertEquals("STORED\r\n", reader.readLine());
      writer.send("set k 0 10 1\r\nx\r\n");
      assertEquals("STORED\r\n", writer.readLine());
      reader.send("mg k R30\r\n");
      assertEquals("CLIENT_ERROR unauthorized: the write role is required\r\n", reader.readLine());
      writer.send("mg k R30\r\n");
      assertEquals("HD W\r\n", writer.readLine());
    }
  }
}
