package dev.whack.node.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.ring.HashRing;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 12: a client that sends its requests and then half-closes (the README's {@code printf ... |
 * nc -q1}) to a node that does not own the keys gets every reply before the node closes, as
 * memcached answers every request it read before end of input. The connection used to close at end
 * of input while the owner's answer was still on its way, so the client read nothing although the
 * write was applied.
 */
class ForwardingAtEndOfInputTest {
  private final List<EmbeddedNode> nodes = new ArrayList<>();
  private List<String> members;

  @BeforeEach
  void startTwo() throws IOException {
    int[] ports = ForwardingTest.freePorts(2);
    members = List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1]);
    for (int port : ports) {
      nodes.add(EmbeddedNode.start(c -> c.port(port).peers(members)));
    }
    ForwardingTest.awaitConnected(nodes);
  }

  @AfterEach
  void stopAll() {
    nodes.forEach(EmbeddedNode::close);
  }

  /** The {@code n}th key (from "k0" on) that the second node owns. */
  private String keyOfSecondNode(int n) {
    HashRing ring = HashRing.of(members);
    for (int i = 0; ; i++) {
      String key = "k" + i;
      if (ring.owner(key).equals(members.get(1)) && n-- == 0) {
        return key;
      }
    }
  }

  private String keyOfFirstNode() {
    HashRing ring = HashRing.of(members);
    for (int i = 0; ; i++) {
      if (ring.owner("k" + i).equals(members.get(0))) {
        return "k" + i;
      }
    }
  }

  @Test
  void shouldAnswerTheReadmeOneLinerForAKeyAnotherNodeOwns() {
    String key = keyOfSecondNode(0);
    try (RawConnection conn = nodes.get(0).connect()) {
      conn.send("set " + key + " 0 0 1\r\nx\r\nget " + key + "\r\n").endInput();
      assertEquals(
          "STORED\r\nVALUE " + key + " 0 1\r\nx\r\nEND\r\n",
          conn.readToEnd(),
          "every reply, then the close");
    }
  }

  @Test
  void shouldAnswerAPipelineMixingForwardedLocalAndMultiKeyRequestsBeforeClosing() {
    String remote = keyOfSecondNode(0);
    String other = keyOfSecondNode(1);
    String local = keyOfFirstNode();
    StringBuilder pipeline = new StringBuilder();
    StringBuilder expected = new StringBuilder();
    for (String key : List.of(remote, local, other)) {
      pipeline.append("set ").append(key).append(" 0 0 1\r\n1\r\n");
      expected.append("STORED\r\n");
    }
    pipeline.append("incr ").append(remote).append(" 41\r\n");
    expected.append("42\r\n");
    pipeline.append("get ").append(local).append(' ').append(remote).append(' ').append(other);
    pipeline.append("\r\n");
    expected.append("VALUE ").append(local).append(" 0 1\r\n1\r\n");
    expected.append("VALUE ").append(remote).append(" 0 2\r\n42\r\n");
    expected.append("VALUE ").append(other).append(" 0 1\r\n1\r\nEND\r\n");
    pipeline.append("delete ").append(other).append("\r\nmn\r\n");
    expected.append("DELETED\r\nMN\r\n");
    try (RawConnection conn = nodes.get(0).connect()) {
      conn.send(pipeline.toString()).endInput();
      assertEquals(expected.toString(), conn.readToEnd());
    }
  }

  @Test
  void shouldAnswerForwardedBinaryRequestsBeforeClosing() {
    String key = keyOfSecondNode(0);
    byte[] k = key.getBytes(StandardCharsets.US_ASCII);
    ByteArrayOutputStream requests = new ByteArrayOutputStream();
    requests.writeBytes(
        binary(0x01, 1, ByteBuffer.allocate(8).putInt(7).putInt(0).array(), k, "v"));
    requests.writeBytes(binary(0x00, 2, new byte[0], k, ""));
    try (RawConnection conn = nodes.get(0).connect()) {
      conn.send(requests.toByteArray()).endInput();
      byte[] all = conn.readToEnd().getBytes(StandardCharsets.ISO_8859_1);
      ByteBuffer replies = ByteBuffer.wrap(all);
      assertEquals(24 + 24 + 4 + 1, all.length, "a set's and a get's response, then the close");
      assertEquals((byte) 0x81, replies.get(0));
      assertEquals(0x01, replies.get(1), "set");
      assertEquals(0, replies.getShort(6), "set status");
      assertEquals(1, replies.getInt(12), "set opaque");
      assertEquals(0x00, replies.get(24 + 1), "get");
      assertEquals(0, replies.getShort(24 + 6), "get status");
      assertEquals(2, replies.getInt(24 + 12), "get opaque");
      assertEquals(7, replies.getInt(48), "flags");
      assertArrayEquals("v".getBytes(StandardCharsets.US_ASCII), new byte[] {replies.get(52)});
    }
  }

  /**
   * A watch asked of a clustered node spans the cluster; at end of input the node answers it and
   * the forwarded write behind it, and then closes, as at the end of any request.
   */
  @Test
  void shouldAnswerAWatchAndAForwardedWriteBeforeClosing() {
    try (RawConnection setup = nodes.get(0).connect()) {
      setup.send("segdef dk 15\r\ncountry == \"DK\"\r\n");
      assertEquals("DEFINED 0\r\n", setup.readLine());
    }
    String key = keyOfSecondNode(0);
    String profile = "{\"country\":\"DK\"}";
    try (RawConnection conn = nodes.get(0).connect()) {
      conn.send("watch dk\r\nset " + key + " 0 0 " + profile.length() + "\r\n" + profile + "\r\n");
      String all = conn.endInput().readToEnd();
      assertTrue(all.startsWith("WATCHING 1\r\n"), all);
      // The change comes from the owner as the write is applied, so it may overtake the
      // forwarded STORED: a watch's changes are not ordered against the connection's replies.
      int stored = 0;
      for (String line : all.substring("WATCHING 1\r\n".length()).split("\r\n")) {
        if (line.equals("STORED")) {
          stored++;
        } else {
          assertTrue(line.isEmpty() || line.startsWith("CHANGE enter dk " + key + " "), line);
        }
      }
      assertEquals(1, stored, all);
    }
  }

  /** A binary request packet: magic, opcode, lengths, opaque, then extras, key and value. */
  private static byte[] binary(int opcode, int opaque, byte[] extras, byte[] key, String value) {
    byte[] v = value.getBytes(StandardCharsets.US_ASCII);
    int body = extras.length + key.length + v.length;
    ByteBuffer packet = ByteBuffer.allocate(24 + body);
    packet.put((byte) 0x80).put((byte) opcode).putShort((short) key.length);
    packet.put((byte) extras.length).put((byte) 0).putShort((short) 0).putInt(body);
    packet.putInt(opaque).putLong(0).put(extras).put(key).put(v);
    return packet.array();
  }
}
