package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code noreply} on the profile and segment commands that take it ({@code update}, {@code segdef},
 * {@code segdrop}): a client pipelining them reads no reply at all, so that the next reply it reads
 * answers the next command it sent. docs/protocol.md: "With noreply, memcached suppresses even
 * these errors, and so does Whack."
 */
class ProfileNoreplyTest {
  private EmbeddedNode node;
  private RawConnection conn;
  private ProfileWire wire;

  @BeforeEach
  void start() {
    node = EmbeddedNode.startWithClock(ManualClock.at("2026-11-20T10:00:00Z"), c -> {});
    conn = node.connect();
    wire = new ProfileWire(conn);
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  private void assertNextReplyIsTheVersion() {
    String line = conn.readLine();
    assertTrue(
        line.startsWith("VERSION "), "expected nothing before the version reply, got: " + line);
  }

  @Test
  void shouldApplyNoreplyCommandsSilently() {
    conn.send(
        ProfileWire.block("segdef dk <n> noreply", "country == \"DK\"")
            + ProfileWire.block("update u <n> noreply", "{\"set\":{\"country\":\"DK\"}}")
            + ProfileWire.block("update u <n> noreply", "{\"producer\":\"p\",\"seq\":1}")
            + ProfileWire.block("update u <n> noreply", "{\"producer\":\"p\",\"seq\":1}")
            + "segdrop nosuch noreply\r\nversion\r\n");
    assertNextReplyIsTheVersion();
    assertEquals(1, wire.count("segcount", "dk"), "defined and updated without a word");
    conn.send("segdrop dk noreply\r\nversion\r\n");
    assertNextReplyIsTheVersion();
    assertEquals("CLIENT_ERROR unknown segment dk", wire.call("segcount <n>", "dk"));
  }

  @Test
  void shouldSuppressTheErrorOfANoreplySetOfABrokenProfile() {
    conn.send(ProfileWire.block("set u 0 0 <n> noreply", "{\"country\": ") + "version\r\n");
    assertNextReplyIsTheVersion();
  }

  @Test
  void shouldSuppressErrorsOfNoreplyUpdatesAndDefinitionsAsForEveryNoreplyCommand() {
    conn.send(
        ProfileWire.block("update u <n> noreply", "{\"set\":")
            + "set plain 0 0 1 noreply\r\nx\r\n"
            + ProfileWire.block("update plain <n> noreply", "{}")
            + ProfileWire.block("segdef bad <n> noreply", "country ==")
            + "version\r\n");
    assertNextReplyIsTheVersion();
  }
}
