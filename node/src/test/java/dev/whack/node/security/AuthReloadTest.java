package dev.whack.node.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import dev.whack.node.testing.TestUsers;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What SIGHUP does (NodeCommand's handler calls {@code WhackNode.reload}), over a real socket. */
class AuthReloadTest {
  @TempDir Path dir;

  private static String auth(RawConnection c, String user, String password) {
    String token = user + " " + password;
    c.send("set a 0 0 " + token.length() + "\r\n" + token + "\r\n");
    return c.readLine().strip();
  }

  @Test
  void shouldTakeNewUsersOnReloadAndKeepTheOldOnesWhenTheFileIsBad() throws Exception {
    Path file = TestUsers.write(dir);
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.authFile(file));
        RawConnection before = node.connect()) {
      assertEquals("STORED", auth(before, "reader", "reader-pw"));
      try (RawConnection c = node.connect()) {
        assertEquals("CLIENT_ERROR authentication failure", auth(c, "carol", "carol-pw"));
      }
      Files.writeString(file, TestUsers.line("carol", "carol-pw", Role.WRITE) + "\n");
      assertEquals("reloaded " + file + ": 1 users", node.node().reload());
      try (RawConnection c = node.connect()) {
        assertEquals("STORED", auth(c, "carol", "carol-pw"));
      }
      try (RawConnection c = node.connect()) {
        assertEquals("CLIENT_ERROR authentication failure", auth(c, "reader", "reader-pw"));
      }
      // A connection authenticated before the reload keeps its role until it reconnects.
      before.send("get k\r\n");
      assertEquals("END", before.readLine().strip());

      Files.writeString(file, "carol admin not-a-hash\n");
      String kept = node.node().reload();
      assertTrue(kept.startsWith("kept the users it had: " + file + " line 1: "), kept);
      try (RawConnection c = node.connect()) {
        assertEquals("STORED", auth(c, "carol", "carol-pw"));
      }
    }
  }
}
