package dev.whack.node.tenant;

import static dev.whack.node.tenant.Conversations.ask;
import static dev.whack.node.tenant.Conversations.line;
import static dev.whack.node.tenant.Conversations.update;
import static dev.whack.node.testing.BinaryPacket.bytes;
import static dev.whack.node.testing.BinaryPacket.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.security.Role;
import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import dev.whack.node.testing.TestUsers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a tenant learns about the node besides its keys: its {@code stats} count its own items,
 * commands and connections, {@code stats conns} lists its own clients only, and a watcher hears its
 * own tenant's segment changes only (TenantIsolationProperties covers the data itself).
 */
class TenantStatsIsolationTest {
  @TempDir Path dir;
  private EmbeddedNode node;

  @BeforeEach
  void start() throws IOException {
    Path users = TestUsers.write(dir);
    StringBuilder more = new StringBuilder();
    for (String tenant : new String[] {"red", "blue"}) {
      more.append(userLine(tenant + "-admin", Role.ADMIN, tenant));
      more.append(userLine(tenant + "-writer", Role.WRITE, tenant));
    }
    Files.writeString(users, Files.readString(users) + more);
    node = EmbeddedNode.start(c -> c.authFile(users));
    try (RawConnection admin = login("admin")) {
      assertEquals("CREATED", ask(admin, "tenant create red memory=16777216\r\n"));
      assertEquals("CREATED", ask(admin, "tenant create blue memory=16777216\r\n"));
    }
  }

  @AfterEach
  void stop() {
    node.close();
  }

  @Test
  void shouldCountEachTenantsItemsCommandsAndConnectionsInItsOwnStats() {
    try (RawConnection red = login("red-admin");
        RawConnection redWriter = login("red-writer");
        RawConnection redBinary = binaryLogin("red-writer");
        RawConnection blue = login("blue-admin");
        RawConnection plain = login("writer")) {
      for (String key : new String[] {"a", "b", "c"}) {
        assertEquals("STORED", ask(red, "set " + key + " 0 0 1\r\nr\r\n"));
      }
      redBinary.send(
          request(0x01, 0, 0, ByteBuffer.allocate(8).array(), bytes("d"), bytes("r"))); // Set
      assertEquals(0, BinaryPacket.read(redBinary).status());
      assertEquals("STORED", ask(blue, "set a 0 0 1\r\nb\r\n"));
      assertEquals("STORED", ask(plain, "set a 0 0 1\r\np\r\n"));
      assertEquals("STORED", ask(plain, "set b 0 0 1\r\np\r\n"));
      assertEquals("END", ask(blue, "get zz\r\n"));
      assertEquals("DEFINED 0", ask(red, "segdef s 5\r\nx > 1\r\n"));
      assertEquals("UPDATED", ask(red, update("p", "{\"set\": {\"age\": 40}}")));

      Map<String, String> redStats = stats(redWriter, "stats");
      assertEquals("5", redStats.get("curr_items"), "red's items: " + redStats);
      assertEquals("4", redStats.get("cmd_set"), "red's sets");
      assertEquals("0", redStats.get("cmd_get"), "blue's get is not red's");
      assertEquals("1", redStats.get("segments"));
      assertEquals("1", redStats.get("profiles"));
      assertEquals("2", redStats.get("attribute_names"), "x (the segment's) and age");
      assertEquals("3", redStats.get("curr_connections"), "red's three connections");

      Map<String, String> blueStats = stats(blue, "stats");
      assertEquals("1", blueStats.get("curr_items"), "blue's items: " + blueStats);
      assertEquals("1", blueStats.get("cmd_set"), "blue's sets");
      assertEquals("1", blueStats.get("cmd_get"));
      assertEquals("1", blueStats.get("get_misses"));
      assertEquals("0", blueStats.get("segments"), "red's segment is not blue's");
      assertEquals("0", blueStats.get("profiles"));
      assertEquals("0", blueStats.get("attribute_names"));
      assertEquals("1", blueStats.get("curr_connections"));

      Map<String, String> plainStats = stats(plain, "stats");
      assertEquals("2", plainStats.get("curr_items"), "the default tenant's items: " + plainStats);
      assertEquals("0", plainStats.get("segments"));

      assertEquals(
          Set.of(red.localPort(), redWriter.localPort(), redBinary.localPort()),
          connectionPorts(red),
          "red's stats conns");
      assertEquals(Set.of(blue.localPort()), connectionPorts(blue), "blue's stats conns");

      // Resetting and detail counting are the tenant's own too.
      assertEquals("RESET", ask(red, "stats reset\r\n"));
      assertEquals("0", stats(red, "stats").get("cmd_set"));
      assertEquals("1", stats(blue, "stats").get("cmd_set"), "red's reset is not blue's");
      assertEquals("OK", ask(red, "stats detail on\r\n"));
      assertEquals("STORED", ask(red, "set user:1 0 0 1\r\nr\r\n"));
      assertEquals("STORED", ask(blue, "set user:1 0 0 1\r\nb\r\n"));
      assertEquals("STORED", ask(blue, "set blue:1 0 0 1\r\nb\r\n"));
      assertEquals("no", stats(blue, "stats settings").get("detail_enabled"));
      assertEquals("PREFIX user get 0 hit 0 set 1 del 0", ask(red, "stats detail dump\r\n"));
      assertEquals("END", line(red));
      assertEquals("END", ask(blue, "stats detail dump\r\n"));
    }
  }

  @Test
  void shouldShowEachTenantItsOwnMemoryCapInStatsSettings() {
    long memory = node.node().config().memoryBytes();
    try (RawConnection red = login("red-writer");
        RawConnection plain = login("writer")) {
      Map<String, String> settings = stats(red, "stats settings");
      assertEquals("16777216", settings.get("maxbytes"), "red's quota, not the node's --memory");
      assertEquals(stats(red, "stats").get("limit_maxbytes"), settings.get("maxbytes"));
      // The default tenant's cap is what red's and blue's leave of the node's --memory.
      String left = Long.toString(memory - 2 * 16777216L);
      assertEquals(left, stats(plain, "stats settings").get("maxbytes"));
      assertEquals(left, stats(plain, "stats").get("limit_maxbytes"));
    }
  }

  @Test
  void shouldTellAWatcherOnlyItsOwnTenantsSegmentChanges() {
    try (RawConnection red = login("red-admin");
        RawConnection watcher = login("red-writer");
        RawConnection blue = login("blue-admin")) {
      assertEquals("DEFINED 0", ask(red, "segdef s 8\r\nage > 30\r\n"));
      assertEquals("WATCHING 1", ask(watcher, "watch s\r\n"));
      // Blue's segment of the same name gains a member first; red's watcher must not hear it.
      assertEquals("DEFINED 0", ask(blue, "segdef s 8\r\nage > 30\r\n"));
      assertEquals("UPDATED", ask(blue, update("k-blue", "{\"set\": {\"age\": 40}}")));
      assertEquals("UPDATED", ask(red, update("k-red", "{\"set\": {\"age\": 40}}")));
      String change = line(watcher);
      assertTrue(change.startsWith("CHANGE enter s k-red "), change);
      assertEquals("UNWATCHED", ask(watcher, "unwatch\r\n"));
    }
  }

  /** The client ports of the connections {@code stats conns} lists. */
  private static Set<Integer> connectionPorts(RawConnection c) {
    Set<Integer> ports = new TreeSet<>();
    stats(c, "stats conns")
        .forEach(
            (name, value) -> {
              if (name.endsWith(":addr")) {
                ports.add(Integer.parseInt(value.substring(value.lastIndexOf(':') + 1)));
              }
            });
    return ports;
  }

  private static Map<String, String> stats(RawConnection c, String command) {
    c.send(command + "\r\n");
    Map<String, String> stats = new LinkedHashMap<>();
    for (String l = line(c); !l.equals("END"); l = line(c)) {
      String[] f = l.split(" ", 3);
      assertEquals("STAT", f[0], l);
      stats.put(f[1], f[2]);
    }
    return stats;
  }

  private static String userLine(String user, Role role, String tenant) {
    return TestUsers.line(user, TestUsers.password(user), role) + " tenant=" + tenant + "\n";
  }

  private RawConnection login(String user) {
    return Conversations.login(node, user);
  }

  private RawConnection binaryLogin(String user) {
    return Conversations.binaryLogin(node, user);
  }
}
