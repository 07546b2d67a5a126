package dev.whack.node.client;

import static dev.whack.node.client.ClusterFixture.failure;
import static dev.whack.node.client.ClusterFixture.until;
import static dev.whack.node.client.ClusterFixture.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.BadExpressionException;
import dev.whack.client.BulkWriter;
import dev.whack.client.SegmentChange;
import dev.whack.client.SegmentInfo;
import dev.whack.client.Segments;
import dev.whack.client.ServerErrorException;
import dev.whack.client.UpdateResult;
import dev.whack.client.Watch;
import dev.whack.client.WhackClient;
import dev.whack.node.testing.EmbeddedNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Profiles and segments through the Java client over three real nodes: each profile on its owner,
 * and segment answers for the whole cluster equal to what the profiles say.
 */
class ClientProfilesAndSegmentsTest {
  private ClusterFixture cluster;
  private WhackClient client;
  private Segments segments;

  @BeforeEach
  void start() {
    cluster = new ClusterFixture();
    client = cluster.client;
    segments = client.segments();
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  /** 90 profiles: every third in DK, every fifth a vip. */
  private List<String> load() {
    List<String> keys = new ArrayList<>();
    try (BulkWriter writer = client.bulkWriter(500)) {
      for (int i = 0; i < 90; i++) {
        String key = "user:" + i;
        keys.add(key);
        String country = i % 3 == 0 ? "DK" : "SE";
        String tags = i % 5 == 0 ? "[\"vip\"]" : "[]";
        writer.setProfile(
            key, "{\"country\":\"" + country + "\",\"age\":" + i + ",\"tags\":" + tags + "}");
      }
      writer.flush();
      assertEquals(0, writer.failed(), () -> writer.failures().toString());
    }
    return keys;
  }

  private static Set<String> keysWhere(java.util.function.IntPredicate p) {
    Set<String> out = new TreeSet<>();
    for (int i = 0; i < 90; i++) {
      if (p.test(i)) {
        out.add("user:" + i);
      }
    }
    return out;
  }

  @Test
  void shouldStoreProfilesOnTheirOwnersAndReadThemBackCanonically() {
    value(client.setProfile("user:1", "{ \"country\": \"DK\", \"age\": 31 }"));
    assertEquals(
        Optional.of("{\"country\":\"DK\",\"age\":31}"), value(client.getProfile("user:1")));
    EmbeddedNode owner = cluster.node(client.ownerOf("user:1"));
    assertTrue(ClusterFixture.holds(owner, "user:1"));

    assertEquals(
        UpdateResult.UPDATED,
        value(client.update("user:1", "{\"incr\":{\"age\":1},\"producer\":\"p\",\"seq\":1}")));
    assertEquals(
        UpdateResult.IGNORED,
        value(client.update("user:1", "{\"incr\":{\"age\":1},\"producer\":\"p\",\"seq\":1}")));
    assertTrue(value(client.getProfile("user:1")).orElseThrow().contains("\"age\":32"));

    ServerErrorException bad =
        assertInstanceOf(
            ServerErrorException.class, failure(client.setProfile("user:1", "{\"a\":}")));
    assertTrue(bad.serverMessage().startsWith("bad profile"), bad.serverMessage());
    // JSON a plain memcached client would have stored as a value is refused by the profile call.
    for (String notAProfile : List.of("{\"a\":{\"b\":1}}", "{\"a\":null}", "{\"ids\":[1,2,3]}")) {
      ServerErrorException refused =
          assertInstanceOf(
              ServerErrorException.class, failure(client.setProfile("user:1", notAProfile)));
      assertTrue(
          refused.serverMessage().startsWith("bad profile: invalid JSON"), refused.serverMessage());
    }
    assertTrue(value(client.getProfile("user:1")).orElseThrow().contains("\"age\":32"));
    assertTrue(value(client.deleteProfile("user:1")));
    assertEquals(Optional.empty(), value(client.getProfile("user:1")));
  }

  @Test
  void shouldAnswerSegmentQuestionsForTheWholeCluster() {
    load();
    assertEquals(30L, value(segments.define("dk", "country == \"DK\"")));
    assertEquals(18L, value(segments.define("vip", "\"vip\" in tags")));
    assertEquals(30L, value(segments.count("dk")));
    assertEquals(6L, value(segments.count("dk and vip")));
    assertEquals(
        List.of(
            new SegmentInfo("dk", 30, "country == \"DK\""),
            new SegmentInfo("vip", 18, "\"vip\" in tags")),
        value(segments.list()));

    Set<String> dk = new TreeSet<>(segments.members("dk").toList());
    assertEquals(keysWhere(i -> i % 3 == 0), dk);
    assertEquals(30, segments.members("dk").count(), "no member twice");
    assertEquals(7, value(segments.members("dk", 7)).size());

    assertEquals(45L, value(segments.filterCount("age >= 45")));
    assertEquals(
        keysWhere(i -> i >= 45), new TreeSet<>(segments.filterMembers("age >= 45").toList()));

    assertEquals(List.of("dk", "vip"), value(segments.of("user:15")).stream().sorted().toList());
    assertEquals(List.of(), value(segments.of("user:1")));

    BadExpressionException e =
        assertInstanceOf(BadExpressionException.class, failure(segments.define("x", "country ==")));
    assertTrue(e.position() >= 0);

    assertTrue(value(segments.drop("vip")));
    assertFalse(value(segments.drop("vip")));
    assertEquals(List.of("dk"), value(segments.list()).stream().map(SegmentInfo::name).toList());
  }

  @Test
  void shouldWatchChangesOnEveryNode() throws Exception {
    value(segments.define("dk", "country == \"DK\""));
    BlockingQueue<SegmentChange> changes = new LinkedBlockingQueue<>();
    try (Watch watch = value(segments.watch(List.of("dk"), changes::add))) {
      Set<String> entered = new TreeSet<>();
      for (int i = 0; i < 30; i++) {
        value(client.setProfile("w:" + i, "{\"country\":\"DK\"}"));
      }
      Set<String> nodes = new TreeSet<>();
      while (entered.size() < 30) {
        SegmentChange c = changes.poll(ClusterFixture.BOUND.toMillis(), TimeUnit.MILLISECONDS);
        assertTrue(c != null, "a change for every profile; have " + entered);
        assertEquals(SegmentChange.Kind.ENTER, c.kind());
        assertEquals("dk", c.segment());
        assertEquals(client.ownerOf(c.key()), c.node());
        entered.add(c.key());
        nodes.add(c.node());
      }
      assertEquals(3, nodes.size(), "changes came from every node");
      value(client.update("w:0", "{\"set\":{\"country\":\"SE\"}}"));
      SegmentChange left = changes.poll(ClusterFixture.BOUND.toMillis(), TimeUnit.MILLISECONDS);
      assertEquals(SegmentChange.Kind.LEAVE, left.kind());
      assertEquals("w:0", left.key());
      assertEquals(List.of("dk"), watch.segments());
    }
    until("nothing left over", changes::isEmpty);
  }
}
