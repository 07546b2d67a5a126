package dev.whack.node.tenant;

import static dev.whack.node.testing.BinaryPacket.bytes;
import static dev.whack.node.testing.BinaryPacket.request;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import dev.whack.node.testing.TestUsers;

/** The tenant tests' ways to talk to a node: a user's login, and a request with its answer. */
final class Conversations {
  private Conversations() {}

  /** A text connection logged in as {@code user} of {@link TestUsers}' passwords. */
  static RawConnection login(EmbeddedNode node, String user) {
    RawConnection c = node.connect();
    c.send(TestUsers.textAuth(user));
    assertEquals("STORED", line(c), user + " logs in");
    return c;
  }

  /** A binary connection logged in as {@code user} with SASL PLAIN. */
  static RawConnection binaryLogin(EmbeddedNode node, String user) {
    RawConnection c = node.connect();
    c.send(
        request(
            0x21,
            7,
            0,
            new byte[0],
            bytes("PLAIN"),
            bytes("\0" + user + "\0" + TestUsers.password(user))));
    BinaryPacket p = BinaryPacket.read(c);
    assertEquals(0, p.status(), p::toString);
    return c;
  }

  /** Sends {@code request} and reads the first line of its answer. */
  static String ask(RawConnection c, String request) {
    c.send(request);
    return line(c);
  }

  /** The next line of an answer, without its "\r\n". */
  static String line(RawConnection c) {
    return c.readLine().strip();
  }

  /** An {@code update} of {@code key} with Update JSON. */
  static String update(String key, String json) {
    return "update " + key + " " + json.length() + "\r\n" + json + "\r\n";
  }
}
