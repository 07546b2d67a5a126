package dev.whack.node.profiles;

import static dev.whack.node.testing.BinaryPacket.bytes;
import static dev.whack.node.testing.BinaryPacket.int4;
import static dev.whack.node.testing.BinaryPacket.read;
import static dev.whack.node.testing.BinaryPacket.request;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SegDefine (0x62) with a 4-byte sample as its extras: the binary dry run (docs/protocol.md,
 * "Binary opcodes"). A response per sampled member, then one carrying the count, all with the
 * request's opaque; a definition's refusals with the same words; nothing defined.
 */
class BinarySegmentDryRunTest {
  private static final int SET = 0x01;
  private static final int SEG_DEFINE = 0x62;
  private static final int SEG_LIST = 0x64;
  private static final int FILTER_MEMBERS = 0x69;
  private static final int OK = 0x00;
  private static final int INVALID = 0x04;
  private static final byte[] NONE = new byte[0];

  private EmbeddedNode node;
  private RawConnection conn;
  private int nextOpaque = 0x2000;

  @BeforeEach
  void start() {
    node = EmbeddedNode.start();
    conn = node.connect();
    for (int i = 0; i < 30; i++) {
      String json = "{\"country\":\"" + (i % 3 == 0 ? "DK" : "SE") + "\",\"age\":" + i + "}";
      byte[] extras = ByteBuffer.allocate(8).putInt(0).putInt(0).array();
      conn.send(request(SET, 1, 0, extras, bytes("p" + i), bytes(json)));
      assertEquals(OK, read(conn).status());
    }
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  /** Every response to one request, up to the one that ends it (the count, or an error). */
  private List<BinaryPacket> dryRun(String name, int sample, String expression) {
    int opaque = nextOpaque++;
    conn.send(request(SEG_DEFINE, opaque, 0, int4(sample), bytes(name), bytes(expression)));
    List<BinaryPacket> out = new ArrayList<>();
    while (true) {
      BinaryPacket p = read(conn);
      assertEquals(SEG_DEFINE, p.opcode(), p::toString);
      assertEquals(opaque, p.opaque(), () -> "every response carries the opaque: " + p);
      out.add(p);
      if (p.status() != OK || p.key().length == 0) {
        return out;
      }
      assertEquals(0, p.extras().length, p::toString);
      assertEquals(0, p.value().length, p::toString);
    }
  }

  private static List<String> sampled(List<BinaryPacket> responses) {
    return responses.subList(0, responses.size() - 1).stream().map(BinaryPacket::keyText).toList();
  }

  /** Every profile matching the filter, in one FilterMembers page. */
  private List<String> filterMembers(String filter) {
    conn.send(request(FILTER_MEMBERS, 8, 0, int4(1000), NONE, bytes(filter)));
    List<String> keys = new ArrayList<>();
    for (BinaryPacket p = read(conn); p.key().length > 0; p = read(conn)) {
      keys.add(p.keyText());
    }
    return keys;
  }

  private int segments() {
    conn.send(request(SEG_LIST, 7, 0, NONE, NONE, NONE));
    int n = 0;
    while (!read(conn).isEmpty()) {
      n++;
    }
    return n;
  }

  @Test
  void shouldAnswerASampleThenTheCountAndDefineNothing() {
    List<BinaryPacket> responses = dryRun("dk", 4, "country == \"DK\"");
    assertEquals(5, responses.size(), responses::toString);
    BinaryPacket last = responses.get(4);
    assertEquals(OK, last.status(), last::toString);
    assertEquals(0, last.key().length, last::toString);
    assertEquals(10, last.valueLong(), "the count, 8 bytes, as SegDefine answers a size");
    assertEquals(filterMembers("country == \"DK\"").subList(0, 4), sampled(responses));
    assertEquals(0, segments(), "nothing defined");
  }

  @Test
  void shouldAnswerTheCountAloneForASampleOfZero() {
    List<BinaryPacket> responses = dryRun("dk", 0, "country == \"SE\"");
    assertEquals(1, responses.size(), responses::toString);
    assertEquals(20, responses.get(0).valueLong());
  }

  @Test
  void shouldRefuseWhatADefinitionRefusesAndABadSample() {
    String[][] cases = {{"and", "age > 1"}, {"dk", "country == "}, {"dk", "age > 1 and"}};
    for (String[] c : cases) {
      conn.send(request(SEG_DEFINE, 9, 0, NONE, bytes(c[0]), bytes(c[1])));
      BinaryPacket defined = read(conn);
      assertEquals(INVALID, defined.status(), defined::toString);
      List<BinaryPacket> responses = dryRun(c[0], 10, c[1]);
      assertEquals(1, responses.size());
      assertEquals(INVALID, responses.get(0).status());
      assertArrayEquals(defined.value(), responses.get(0).value(), "the definition's own words");
    }
    for (int sample : new int[] {1001, -1}) {
      List<BinaryPacket> responses = dryRun("dk", sample, "age > 1");
      assertEquals(INVALID, responses.get(0).status());
      assertEquals(
          "bad sample " + sample + ": a sample is 0 to 1000 keys", responses.get(0).valueText());
    }
    assertEquals(0, segments());
    assertTrue(dryRun("dk", 1, "age > 1").get(0).key().length > 0, "still answering");
  }
}
