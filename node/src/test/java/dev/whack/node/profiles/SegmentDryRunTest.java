package dev.whack.node.profiles;

import static dev.whack.node.profiles.ProfileWire.block;
import static dev.whack.node.profiles.ProfileWire.strip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code segdef <name> <bytes> dryrun [<sample>]} over a real socket (docs/protocol.md,
 * "Segments"): the count and sample a definition would have, a definition's errors, and nothing
 * defined.
 */
class SegmentDryRunTest {
  private ManualClock clock;
  private EmbeddedNode node;
  private RawConnection conn;
  private ProfileWire wire;

  @BeforeEach
  void start() {
    clock = ManualClock.at("2026-11-20T10:00:00Z");
    node = EmbeddedNode.startWithClock(clock, c -> {});
    conn = node.connect();
    wire = new ProfileWire(conn);
    for (int i = 0; i < 40; i++) {
      String country = i % 4 == 0 ? "DK" : "SE";
      assertEquals(
          "STORED", wire.set("p" + i, 0, 0, "{\"country\":\"" + country + "\",\"age\":" + i + "}"));
    }
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  /** The whole reply to a dry run: its lines without CRLF, up to and including END. */
  private List<String> dryRun(String name, String options, String expression) {
    conn.send(
        block("segdef " + name + " <n> dryrun" + options, expression)
            .getBytes(StandardCharsets.UTF_8));
    List<String> lines = new ArrayList<>();
    String line = strip(conn.readLine());
    lines.add(line);
    if (!line.startsWith("COUNT ")) {
      return lines; // an error: one line
    }
    do {
      line = strip(conn.readLine());
      lines.add(line);
    } while (!line.equals("END"));
    return lines;
  }

  private static List<String> keys(List<String> reply) {
    return reply.subList(1, reply.size() - 1).stream()
        .peek(line -> assertTrue(line.startsWith("KEY "), line))
        .map(line -> line.substring(4))
        .toList();
  }

  private String seglist() {
    conn.send("seglist\r\n");
    StringBuilder all = new StringBuilder();
    for (String line = conn.readLine(); !line.equals("END\r\n"); line = conn.readLine()) {
      all.append(line);
    }
    return all.toString();
  }

  @Test
  void shouldAnswerTheCountAndTenMembersByDefaultAndDefineNothing() {
    List<String> reply = dryRun("dk", "", "country == \"DK\"");
    assertEquals("COUNT 10", reply.get(0));
    assertEquals("END", reply.get(reply.size() - 1));
    assertEquals(
        wire.members("filtermembers", "country == \"DK\"", 10),
        keys(reply),
        "the sample is the members a definition would hold, in the engine's order");
    assertEquals("", seglist(), "nothing defined");
    assertEquals(List.of(), wire.segof("p0"));
    conn.send("segcount 2\r\ndk\r\n");
    assertEquals("CLIENT_ERROR unknown segment dk\r\n", conn.readLine());
  }

  @Test
  void shouldSampleAsManyMembersAsAskedUpToTheCount() {
    List<String> all = wire.members("filtermembers", "age >= 5", 1000);
    assertEquals(35, all.size());
    assertEquals(all.subList(0, 3), keys(dryRun("old", " 3", "age >= 5")));
    assertEquals(all, keys(dryRun("old", " 1000", "age >= 5")), "a sample past the count is all");
    assertEquals(List.of("COUNT 35", "END"), dryRun("old", " 0", "age >= 5"), "a count alone");
    assertEquals(List.of("COUNT 0", "END"), dryRun("none", "", "age > 1000"));
  }

  @Test
  void shouldRefuseASampleOutsideZeroToAThousandAndSkipItsBlock() {
    for (String sample : List.of("1001", "-1", "ten", "99999999999")) {
      conn.send(block("segdef x <n> dryrun " + sample, "age > 1"));
      assertEquals("CLIENT_ERROR bad sample\r\n", conn.readLine(), sample);
    }
    conn.send("version\r\n");
    assertTrue(conn.readLine().startsWith("VERSION "), "the blocks were skipped, not run");
  }

  @Test
  void shouldRefuseWhatADefinitionRefusesWithTheSameWords() {
    String[][] cases = {
      {"dk", "country == \"DK\" and and"},
      {"dk", "count(purchase, 7) > 1"},
      {"and", "age > 1"},
      {"9lives", "age > 1"},
      {"dk", "country =="},
    };
    for (String[] c : cases) {
      conn.send(block("segdef " + c[0] + " <n>", c[1]));
      String defineSays = strip(conn.readLine());
      assertTrue(defineSays.startsWith("CLIENT_ERROR bad "), defineSays);
      assertEquals(List.of(defineSays), dryRun(c[0], "", c[1]), c[0] + " " + c[1]);
    }
    assertEquals("", seglist());
  }

  @Test
  void shouldAnswerDryRunFormsThatDoNotParseAsMemcachedDoes() {
    conn.send(block("segdef dk <n> dryrun 5 noreply", "age > 1"));
    assertEquals("ERROR\r\n", conn.readLine(), "a dry run has no noreply");
    // memcached reads a bad command line's block as commands: "age > 1" is then unknown.
    assertEquals("ERROR\r\n", conn.readLine());
    conn.send(block("segdef dk x dryrun", "age > 1"));
    assertEquals("CLIENT_ERROR bad command line format\r\n", conn.readLine());
    assertEquals("ERROR\r\n", conn.readLine());
    conn.send(block("segdef dk <n> dryrun", "x".repeat(64 * 1024 + 1)));
    assertEquals("CLIENT_ERROR expression too long\r\n", conn.readLine());
    assertEquals("", seglist());
  }

  @Test
  void shouldWriteSampledKeysPercentEncodedAsListingsDo() {
    assertEquals("STORED", wire.set("user:\u00f6", 0, 0, "{\"country\":\"FI\"}"));
    assertEquals(
        List.of("COUNT 1", "KEY user:%C3%B6", "END"), dryRun("fi", "", "country == \"FI\""));
  }

  @Test
  void shouldLeaveADefinedSegmentAndItsWatchersAlone() {
    assertEquals(10, wire.define("dk", "country == \"DK\""));
    String before = seglist();
    try (RawConnection watcher = node.connect()) {
      watcher.send("watch dk\r\n");
      assertEquals("WATCHING 1\r\n", watcher.readLine());
      assertEquals(List.of("COUNT 0", "END"), dryRun("dk", "", "country == \"NO\""));
      assertEquals(before, seglist(), "dk keeps its expression and size");
      // p1 would enter dk as the dry run had it, and does not; p2 enters dk as it is defined.
      assertEquals("UPDATED", wire.update("p1", "{\"set\":{\"country\":\"NO\"}}"));
      assertEquals("UPDATED", wire.update("p2", "{\"set\":{\"country\":\"DK\"}}"));
      assertEquals(
          "CHANGE enter dk p2 " + clock.millis() + "\r\n",
          watcher.readLine(),
          "the first change the watcher sees is the update's, none from the dry run");
      assertEquals(List.of(), wire.segof("p1"));
    }
  }

  @Test
  void shouldAnswerALocalDryRunTheSame() {
    conn.send(block("local segdef dk <n> dryrun 2", "country == \"DK\""));
    assertEquals("COUNT 10\r\n", conn.readLine());
    assertEquals("KEY p0\r\n", conn.readLine());
    assertEquals("KEY p4\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
  }
}
