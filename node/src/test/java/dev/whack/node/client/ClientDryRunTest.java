package dev.whack.node.client;

import static dev.whack.node.client.ClusterFixture.failure;
import static dev.whack.node.client.ClusterFixture.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.BadExpressionException;
import dev.whack.client.BulkWriter;
import dev.whack.client.SegmentChange;
import dev.whack.client.SegmentDryRun;
import dev.whack.client.SegmentInfo;
import dev.whack.client.Segments;
import dev.whack.client.ServerErrorException;
import dev.whack.client.Watch;
import dev.whack.client.WhackClient;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code Segments.dryRun} through the Java client over three real nodes: the count is every node's
 * summed, the sample takes each node's keys in turn, a definition's refusals come back the same,
 * and nothing is defined or told to a watcher.
 */
class ClientDryRunTest {
  private ClusterFixture cluster;
  private WhackClient client;
  private Segments segments;

  @BeforeEach
  void start() {
    cluster = new ClusterFixture();
    client = cluster.client;
    segments = client.segments();
    try (BulkWriter writer = client.bulkWriter(500)) {
      for (int i = 0; i < 90; i++) {
        String country = i % 3 == 0 ? "DK" : "SE";
        writer.setProfile("user:" + i, "{\"country\":\"" + country + "\",\"age\":" + i + "}");
      }
      writer.flush();
      assertEquals(0, writer.failed(), () -> writer.failures().toString());
    }
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void shouldCountOverEveryNodeAndSampleEachInTurn() {
    SegmentDryRun dk = value(segments.dryRun("dk", "country == \"DK\""));
    assertEquals(30, dk.count());
    assertEquals(Segments.DEFAULT_SAMPLE, dk.sample().size());
    Set<String> matching = new HashSet<>(segments.filterMembers("country == \"DK\"").toList());
    assertTrue(matching.containsAll(dk.sample()), dk.toString());
    assertEquals(10, new HashSet<>(dk.sample()).size(), "no key twice");
    Map<String, Long> perNode =
        dk.sample().stream().collect(Collectors.groupingBy(client::ownerOf, Collectors.counting()));
    assertEquals(3, perNode.size(), "keys of every node: " + perNode);
    perNode.values().forEach(n -> assertTrue(n >= 3 && n <= 4, "taken in turn: " + perNode));

    assertEquals(30, value(segments.dryRun("dk", "country == \"DK\"", 1000)).sample().size());
    assertEquals(
        new SegmentDryRun(60, List.of()), value(segments.dryRun("se", "country == \"SE\"", 0)));
    assertEquals(List.of(), value(segments.list()), "nothing defined");
    assertTrue(
        assertInstanceOf(ServerErrorException.class, failure(segments.count("dk")))
            .serverMessage()
            .contains("unknown segment dk"));
  }

  @Test
  void shouldRefuseWhatADefinitionRefuses() {
    BadExpressionException defined =
        assertInstanceOf(
            BadExpressionException.class, failure(segments.define("x", "country == ")));
    BadExpressionException dry =
        assertInstanceOf(
            BadExpressionException.class, failure(segments.dryRun("x", "country == ")));
    assertEquals(defined.serverMessage(), dry.serverMessage());
    assertEquals(defined.position(), dry.position());
    ServerErrorException badName =
        assertInstanceOf(ServerErrorException.class, failure(segments.dryRun("xor", "age > 1")));
    assertTrue(badName.serverMessage().startsWith("bad segment name xor"), badName.toString());
    assertInstanceOf(
        IllegalArgumentException.class, failure(segments.dryRun("x", "age > 1", 1001)));
    assertEquals(
        List.of(), value(segments.list()), "nothing defined by the refused definitions either");
  }

  @Test
  void shouldLeaveADefinedSegmentAndItsWatchersAlone() throws Exception {
    assertEquals(30L, value(segments.define("dk", "country == \"DK\"")));
    BlockingQueue<SegmentChange> changes = new LinkedBlockingQueue<>();
    try (Watch watch = value(segments.watch(List.of("dk"), changes::add))) {
      assertEquals(List.of("dk"), watch.segments());
      assertEquals(60, client.blocking().segments().dryRun("dk", "country == \"SE\"", 5).count());
      assertEquals(
          List.of(new SegmentInfo("dk", 30, "country == \"DK\"")),
          value(segments.list()),
          "dk as it was defined");
      value(client.update("user:0", "{\"set\":{\"country\":\"SE\"}}"));
      SegmentChange first = changes.poll(ClusterFixture.BOUND.toMillis(), TimeUnit.MILLISECONDS);
      assertTrue(first != null, "the update's change");
      assertEquals(
          SegmentChange.Kind.LEAVE + " user:0",
          first.kind() + " " + first.key(),
          "the first change is the update's: none came from the dry run");
    }
  }
}
