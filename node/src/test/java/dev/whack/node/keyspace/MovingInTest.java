package dev.whack.node.keyspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A profile a Kafka-managed cluster moves to this member (a warm copy promoted, a slot restored)
 * enters its segments here without a change told: in the cluster it never left them, and its last
 * owner dropped it without telling a leave. Its membership counts all the same.
 */
class MovingInTest {
  private static final String DK = "country == \"DK\"";

  @Test
  void shouldCountAProfileMovedInWithoutTellingItsEnter() {
    try (EmbeddedNode node = EmbeddedNode.start();
        RawConnection c = node.connect();
        RawConnection watcher = node.connect()) {
      c.send("segdef dk " + DK.length() + "\r\n" + DK + "\r\n");
      assertEquals("DEFINED 0\r\n", c.readLine());
      watcher.send("watch dk\r\n");
      assertEquals("WATCHING 1\r\n", watcher.readLine());

      KeyspaceSession session = node.node().keyspace().session();
      byte[] moved = "{\"country\":\"DK\"}".getBytes(StandardCharsets.UTF_8);
      byte[] key = "moved".getBytes(StandardCharsets.UTF_8);
      Status status =
          session.movingIn(
              key,
              () ->
                  session.store(
                      StoreMode.SET,
                      key,
                      0,
                      key.length,
                      Keyspace.JSON_PROFILE_FLAGS,
                      0,
                      moved,
                      0,
                      false,
                      false,
                      new Outcome()));
      assertEquals(Status.STORED, status);
      c.send("set written 0 0 " + moved.length + "\r\n{\"country\":\"DK\"}\r\n");
      assertEquals("STORED\r\n", c.readLine());

      String change = watcher.readLine();
      assertTrue(change.startsWith("CHANGE enter dk written "), "the first change told: " + change);
      c.send("segcount 2\r\ndk\r\n");
      assertEquals("COUNT 2\r\n", c.readLine(), "the moved profile is a member all the same");
    }
  }
}
