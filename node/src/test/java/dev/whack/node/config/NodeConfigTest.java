package dev.whack.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class NodeConfigTest {
  @Test
  void shouldReadDurationsInSecondsOrWithAUnit() {
    assertEquals(3600, NodeConfig.parseSeconds("3600"));
    assertEquals(45, NodeConfig.parseSeconds("45s"));
    assertEquals(5400, NodeConfig.parseSeconds("90m"));
    assertEquals(43_200, NodeConfig.parseSeconds("12h"));
    assertEquals(30L * 86_400, NodeConfig.parseSeconds("30D"));
    for (String bad : new String[] {"", "d", "-1h", "1w", "1.5h", "99999999999999999d"}) {
      assertThrows(IllegalArgumentException.class, () -> NodeConfig.parseSeconds(bad), bad);
    }
  }

  @Test
  void shouldRefuseAProducerMarkAgeUnderASecond() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new NodeConfig().producerMarkAgeSeconds(0).conclude());
    assertEquals("producer mark age must be at least a second: 0", e.getMessage());
  }

  @Test
  void shouldKeepTheHttpPortOffUnlessAskedAndRefuseOneOutOfRange() {
    assertEquals(0, new NodeConfig().conclude().httpPort());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> new NodeConfig().httpPort(70_000).conclude());
    assertEquals("HTTP port must be 0..65535 (0 turns the HTTP API off): 70000", e.getMessage());
  }
}
