package dev.whack.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every text and meta command, and the error for each way of getting one wrong, over a real socket,
 * against replies recorded from memcached 1.6.18. The clock is frozen so that TTLs and access times
 * in the replies cannot drift across a second boundary.
 */
class TextProtocolCasesTest {
  private static EmbeddedNode node;

  @BeforeAll
  static void startNode() {
    node = EmbeddedNode.startWithClock(new ManualClock(EmbeddedNode.TEST_EPOCH_MILLIS), c -> {});
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }

  @TestFactory
  Stream<DynamicTest> shouldAnswerLikeMemcached() {
    return ProtocolCases.text("memcached-text-cases.txt").stream()
        .map(c -> DynamicTest.dynamicTest(c.name(), () -> assertCase(c)));
  }

  private static void assertCase(ProtocolCases.Case c) {
    String actual;
    try (RawConnection conn = node.connect()) {
      conn.send("flush_all\r\n").send(c.request());
      byte[] reply = conn.finishAndReadAll(2_000);
      actual = new String(reply, StandardCharsets.ISO_8859_1);
    }
    String masked =
        actual
            .replaceAll("(VALUE \\S+ \\d+ \\d+) \\d+", "$1 <cas>")
            .replaceAll(" c\\d+", " c<cas>")
            .replaceAll("cas=\\d+", "cas=<cas>");
    assertEquals(
        ProtocolCases.escape(c.expected()),
        ProtocolCases.escape(masked),
        () ->
            "request: "
                + ProtocolCases.escape(new String(c.request(), StandardCharsets.ISO_8859_1)));
  }
}
