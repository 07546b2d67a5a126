package dev.whack.node.cluster;

import static dev.whack.node.testing.BinaryPacket.bytes;
import static dev.whack.node.testing.BinaryPacket.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.ring.HashRing;
import dev.whack.node.WhackNode;
import dev.whack.node.config.NodeConfig;
import dev.whack.node.security.BasicCredentials;
import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.RawConnection;
import dev.whack.node.testing.TestUsers;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two static members with one auth file, each authenticating to the other as the member user
 * ({@code admin}): keys sent to the member that does not own them are forwarded to their owner and
 * read back through either, over the text and binary protocols and the HTTP port; a segment
 * definition (admin) reaches both; a reader's writes are refused at the member it reached, before
 * anything is forwarded, and a reader's forwarded {@code mg} takes no win token at the owner.
 */
class AuthClusterTest {
  private static final byte[] NONE = new byte[0];

  @TempDir Path dir;
  private final List<EmbeddedNode> nodes = new ArrayList<>();
  private List<String> members;
  private Path users;
  private Path memberPassword;

  @BeforeEach
  void startTwo() throws IOException {
    users = TestUsers.write(dir);
    memberPassword = Files.writeString(dir.resolve("member-password"), "admin-pw\n");
    int[] ports = FreePorts.take(4);
    members = List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1]);
    for (int i = 0; i < 2; i++) {
      int port = ports[i];
      int http = ports[2 + i];
      nodes.add(
          EmbeddedNode.start(
              c ->
                  c.port(port)
                      .httpPort(http)
                      .peers(members)
                      .authFile(users)
                      .memberCredentials("admin", memberPassword)));
    }
    ForwardingTest.awaitConnected(nodes);
  }

  @AfterEach
  void stopAll() {
    nodes.forEach(EmbeddedNode::close);
  }

  /** A key that member {@code notOwner} does not own. */
  private String keyNotOwnedBy(int notOwner, String prefix) {
    HashRing ring = HashRing.of(members);
    for (int k = 0; ; k++) {
      String key = prefix + k;
      if (members.indexOf(ring.owner(key)) != notOwner) {
        return key;
      }
    }
  }

  /** One reply line without its "\r\n". */
  private static String line(RawConnection c) {
    return c.readLine().stripTrailing();
  }

  private RawConnection text(int node, String user) {
    RawConnection c = nodes.get(node).connect();
    c.send(TestUsers.textAuth(user));
    assertEquals("STORED", line(c));
    return c;
  }

  private RawConnection binary(int node, String user) {
    RawConnection c = nodes.get(node).connect();
    c.send(
        request(
            0x21,
            1,
            0,
            NONE,
            bytes("PLAIN"),
            bytes("\0" + user + "\0" + TestUsers.password(user))));
    assertEquals(0, BinaryPacket.read(c).status());
    return c;
  }

  @Test
  void shouldForwardKeysBothWaysOverTheText() {
    for (int i = 0; i < 2; i++) {
      String key = keyNotOwnedBy(i, "text");
      try (RawConnection c = text(i, "writer")) {
        c.send("set " + key + " 0 0 2\r\nv" + i + "\r\n");
        assertEquals("STORED", line(c), key);
      }
      try (RawConnection c = text(1 - i, "reader")) {
        c.send("get " + key + "\r\n");
        assertEquals("VALUE " + key + " 0 2", line(c));
        assertEquals("v" + i, line(c));
        assertEquals("END", line(c));
      }
    }
  }

  @Test
  void shouldForwardKeysBothWaysOverTheBinaryProtocol() {
    for (int i = 0; i < 2; i++) {
      String key = keyNotOwnedBy(i, "binary");
      try (RawConnection c = binary(i, "writer")) {
        c.send(request(0x01, 2, 0, new byte[8], bytes(key), bytes("b" + i)));
        assertEquals(0, BinaryPacket.read(c).status(), key);
        c.send(request(0x00, 3, 0, NONE, bytes(key), NONE));
        BinaryPacket got = BinaryPacket.read(c);
        assertEquals(0, got.status(), key);
        assertEquals("b" + i, got.valueText());
      }
    }
  }

  @Test
  void shouldReadAForwardedKeyOverHttp() throws Exception {
    String key = keyNotOwnedBy(0, "http");
    try (RawConnection c = text(1, "writer")) {
      c.send("update " + key + " 15\r\n{\"set\":{\"n\":1}}\r\n");
      assertEquals("UPDATED", line(c));
    }
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:"
                                + nodes.get(0).node().httpPort()
                                + "/profiles/"
                                + key))
                    .header("Authorization", BasicCredentials.header("reader", "reader-pw"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    assertTrue(response.body().contains("\"n\":1"), response.body());
  }

  @Test
  void shouldDefineASegmentOnEveryMember() {
    try (RawConnection c = text(0, "admin")) {
      c.send("segdef everyone 5\r\nn > 0\r\n");
      assertEquals("DEFINED 0", line(c));
    }
    try (RawConnection c = text(1, "reader")) {
      c.send("local seglist\r\n");
      assertTrue(line(c).startsWith("SEGMENT everyone "));
    }
  }

  @Test
  void shouldRefuseAReadersWritesWhereTheyComeIn() {
    String key = keyNotOwnedBy(0, "refused");
    try (RawConnection c = text(0, "reader")) {
      c.send("set " + key + " 0 0 1\r\nx\r\n");
      assertEquals("CLIENT_ERROR unauthorized: the write role is required", line(c));
      c.send("get " + key + "\r\n");
      assertEquals("END", line(c));
    }
    try (RawConnection c = binary(0, "reader")) {
      c.send(request(0x01, 2, 0, new byte[8], bytes(key), bytes("x")));
      assertEquals(0x20, BinaryPacket.read(c).status());
    }
  }

  @Test
  void shouldLeaveAStaleForwardedKeysWinTokenToAWriter() {
    String key = keyNotOwnedBy(0, "stale");
    try (RawConnection writer = text(0, "writer");
        RawConnection reader = text(0, "reader")) {
      writer.send("set " + key + " 0 0 1\r\nv\r\nmd " + key + " I\r\n");
      assertEquals("STORED", line(writer));
      assertEquals("HD", line(writer));
      // The owner runs the forwarded mg as the member user, who may write: the reader's mg must
      // still take no win token there, as on the member that owns the key.
      for (int i = 0; i < 2; i++) {
        reader.send("mg " + key + " v\r\n");
        assertEquals("VA 1 X", line(reader));
        assertEquals("v", line(reader));
      }
      writer.send("mg " + key + " v\r\n");
      assertEquals("VA 1 X W", line(writer));
      assertEquals("v", line(writer));
    }
  }

  @Test
  void shouldRefuseAForwardedLineTheOwnerCouldNotTakeWithoutLosingThePeerConnection() {
    String key = keyNotOwnedBy(0, "long");
    try (RawConnection writer = text(0, "writer");
        RawConnection reader = text(0, "reader")) {
      writer.send("set " + key + " 0 0 1\r\nv\r\n");
      assertEquals("STORED", line(writer));
      // Within this member's limit, but not with "reader " before it at the owner's.
      String padded = "mg " + key + " v" + " ".repeat(2040 - key.length());
      reader.send(padded + "\r\n");
      assertEquals("CLIENT_ERROR line too long", line(reader));
      StringBuilder flags = new StringBuilder("mg " + key);
      for (int i = 0; i < 22; i++) { // 24 tokens: as many as one line splits into
        flags.append(" v");
      }
      reader.send(flags + "\r\n");
      assertEquals("CLIENT_ERROR too many tokens", line(reader));
      // The members' connection was not dropped: forwarding goes on for everyone.
      writer.send("get " + key + "\r\n");
      assertEquals("VALUE " + key + " 0 1", line(writer));
      assertEquals("v", line(writer));
      assertEquals("END", line(writer));
      reader.send("mg " + key + " v\r\n");
      assertEquals("VA 1", line(reader));
      assertEquals("v", line(reader));
    }
  }

  @Test
  void shouldRefuseToStartWithAMemberUserBelowAdmin() {
    Path writerPassword = dir.resolve("writer-password");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> {
              Files.writeString(writerPassword, "writer-pw\n");
              WhackNode.start(config().memberCredentials("writer", writerPassword)).close();
            });
    assertEquals(
        "--member-user writer has the role write in "
            + users
            + "; a member's user needs admin (members forward segment and dimension definitions"
            + " to each other)",
        e.getMessage());
  }

  @Test
  void shouldRefuseToStartWithAWrongMemberPassword() {
    Path wrong = dir.resolve("wrong-password");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> {
              Files.writeString(wrong, "not-it\n");
              WhackNode.start(config().memberCredentials("admin", wrong)).close();
            });
    assertTrue(
        e.getMessage().startsWith("--member-user admin with the password in "), e::getMessage);
  }

  private NodeConfig config() {
    int port = FreePorts.take(1)[0];
    return new NodeConfig()
        .port(port)
        .metricsPort(0)
        .peers(List.of("127.0.0.1:" + port, members.get(0)))
        .authFile(users);
  }
}
