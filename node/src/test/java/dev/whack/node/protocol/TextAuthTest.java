package dev.whack.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.security.Role;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import dev.whack.node.testing.TestUsers;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The text protocol with an auth file: memcached 1.6's {@code -Y} authentication byte for byte, and
 * every text and meta command of {@link CommandAccess} run by every role.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TextAuthTest {
  private static final String NEEDS_WRITE = "CLIENT_ERROR unauthorized: the write role is required";
  private static final String NEEDS_ADMIN = "CLIENT_ERROR unauthorized: the admin role is required";

  private EmbeddedNode node;

  @BeforeAll
  void start(@TempDir Path dir) {
    Path users = TestUsers.write(dir);
    node = EmbeddedNode.start(c -> c.authFile(users));
  }

  @AfterAll
  void stop() {
    node.close();
  }

  /** One line (and block) per command of the table; keys p (a profile), k, n (a number). */
  static final Map<String, String> SAMPLES = new LinkedHashMap<>();

  static {
    SAMPLES.put("get", "get k\r\n");
    SAMPLES.put("set", "set k 0 0 1\r\nx\r\n");
    SAMPLES.put("gets", "gets k\r\n");
    SAMPLES.put("delete", "delete k\r\n");
    SAMPLES.put("incr", "incr n 1\r\n");
    SAMPLES.put("decr", "decr n 1\r\n");
    SAMPLES.put("add", "add k 0 0 1\r\nx\r\n");
    SAMPLES.put("replace", "replace k 0 0 1\r\nx\r\n");
    SAMPLES.put("append", "append k 0 0 1\r\nx\r\n");
    SAMPLES.put("prepend", "prepend k 0 0 1\r\nx\r\n");
    SAMPLES.put("cas", "cas k 0 0 1 1\r\nx\r\n");
    SAMPLES.put("touch", "touch k 100\r\n");
    SAMPLES.put("gat", "gat 100 k\r\n");
    SAMPLES.put("gats", "gats 100 k\r\n");
    SAMPLES.put("flush_all", "flush_all 1000\r\n");
    SAMPLES.put("version", "version\r\n");
    SAMPLES.put("verbosity", "verbosity 1\r\n");
    SAMPLES.put("stats", "stats\r\n");
    SAMPLES.put("quit", "quit\r\n");
    SAMPLES.put("shutdown", "shutdown\r\n");
    SAMPLES.put("slabs", "slabs automove 0\r\n");
    SAMPLES.put("update", "update p 2\r\n{}\r\n");
    SAMPLES.put("sourced", "sourced p prod 1 update-json 2\r\n{}\r\n");
    SAMPLES.put("snapshot", "snapshot\r\n");
    SAMPLES.put("tenant", "tenant list\r\n");
    SAMPLES.put("cluster", "cluster map\r\n");
    SAMPLES.put("itemdump", "itemdump 10\r\n");
    SAMPLES.put("segdef", "segdef s 7\r\nage > 1\r\n");
    SAMPLES.put("segdrop", "segdrop nosuch\r\n");
    SAMPLES.put("seglist", "seglist\r\n");
    SAMPLES.put("segcount", "segcount 1\r\ns\r\n");
    SAMPLES.put("segmembers", "segmembers 1 10\r\ns\r\n");
    SAMPLES.put("segof", "segof p\r\n");
    SAMPLES.put("segdistinct", "segdistinct 1 age\r\ns\r\n");
    SAMPLES.put("filtercount", "filtercount 7\r\nage > 1\r\n");
    SAMPLES.put("filtermembers", "filtermembers 7 10\r\nage > 1\r\n");
    SAMPLES.put("segdump", "segdump 0 10\r\n\r\n");
    SAMPLES.put("dimdef", "dimdef d 20\r\n{\"property\":\"color\"}\r\n");
    SAMPLES.put("dimdrop", "dimdrop nosuch\r\n");
    SAMPLES.put("dimlist", "dimlist\r\n");
    SAMPLES.put("watch", "watch s\r\n");
    SAMPLES.put("unwatch", "unwatch\r\n");
    SAMPLES.put("mg", "mg k v\r\n");
    SAMPLES.put("ms", "ms k 1\r\nx\r\n");
    SAMPLES.put("md", "md k\r\n");
    SAMPLES.put("ma", "ma n\r\n");
    SAMPLES.put("mn", "mn\r\n");
    SAMPLES.put("me", "me k\r\n");
  }

  /** One reply line without its "\r\n". */
  private static String line(RawConnection c) {
    String line = c.readLine();
    assertTrue(line.endsWith("\r\n"), line);
    return line.substring(0, line.length() - 2);
  }

  private RawConnection as(String user) {
    RawConnection c = node.connect();
    c.send(TestUsers.textAuth(user));
    assertEquals("STORED", line(c));
    return c;
  }

  @Test
  void shouldHaveASampleForEveryCommandOfTheTable() {
    Set<String> table = new TreeSet<>();
    CommandAccess.textCommands().forEach(c -> table.add(c.name()));
    assertEquals(table, new TreeSet<>(SAMPLES.keySet()));
  }

  @Test
  void shouldAnswerEveryCommandUnauthenticatedBeforeAuthentication() {
    try (RawConnection c = node.connect()) {
      for (Map.Entry<String, String> e : SAMPLES.entrySet()) {
        String line = e.getValue().substring(0, e.getValue().indexOf("\r\n") + 2);
        if (e.getKey().equals("quit") || line.split(" ").length >= 5 && line.startsWith("set ")) {
          continue; // quit closes; a set of five tokens is an authentication
        }
        c.send(line);
        assertEquals("CLIENT_ERROR unauthenticated", line(c), line);
      }
      // memcached reads nothing as a block before authentication: each line is a command.
      c.send("add k 0 0 2\r\nhi\r\n");
      assertEquals("CLIENT_ERROR unauthenticated", line(c));
      assertEquals("CLIENT_ERROR unauthenticated", line(c));
    }
  }

  @Test
  void shouldAuthenticateAsMemcachedDoesWithASetOfUserAndPassword() {
    try (RawConnection c = node.connect()) {
      c.send("set foo 0 0 2\r\nhi\r\n");
      assertEquals("CLIENT_ERROR bad authentication token format", line(c));
      c.send("set foo 0 0 15\r\nwriter wrong-pw\r\n");
      assertEquals("CLIENT_ERROR authentication failure", line(c));
      c.send("set foo 0 0 2147483646\r\n");
      assertEquals("CLIENT_ERROR auth token too long", line(c));
      c.send("set foo 0 0 2\r\nhiXX");
      assertEquals("CLIENT_ERROR bad command line termination", line(c));
      c.send("get foo\r\n");
      assertEquals("CLIENT_ERROR unauthenticated", line(c));
      c.send(TestUsers.textAuth("writer"));
      assertEquals("STORED", line(c));
      // Authenticated: a set is a set again, even one whose value looks like user and password.
      c.send("set toast 0 0 16\r\nwriter writer-pw\r\nget toast\r\n");
      assertEquals("STORED", line(c));
      assertEquals("VALUE toast 0 16", line(c));
      assertEquals("writer writer-pw", line(c));
      assertEquals("END", line(c));
    }
  }

  @Test
  void shouldCountAuthenticationsAndRefusalsInStats() {
    try (RawConnection c = node.connect()) {
      c.send("set foo 0 0 12\r\nreader nope!\r\n");
      assertEquals("CLIENT_ERROR authentication failure", line(c));
    }
    try (RawConnection c = as("admin")) {
      c.send("stats\r\n");
      Map<String, Long> stats = new LinkedHashMap<>();
      for (String line = line(c); !line.equals("END"); line = line(c)) {
        String[] parts = line.split(" ");
        if (parts[1].startsWith("auth_")) {
          stats.put(parts[1], Long.parseLong(parts[2]));
        }
      }
      assertTrue(stats.get("auth_cmds") >= 2, stats::toString);
      assertTrue(stats.get("auth_errors") >= 1, stats::toString);
      assertTrue(stats.containsKey("auth_unauthenticated"), stats::toString);
      assertTrue(stats.containsKey("auth_unauthorized"), stats::toString);
    }
  }

  @Test
  void shouldRunOrRefuseEveryCommandByTheUsersRole() {
    for (String user : TestUsers.NAMES) {
      Role role = TestUsers.role(user);
      for (CommandAccess.Command command : CommandAccess.textCommands()) {
        String sample = SAMPLES.get(command.name());
        try (RawConnection c = as(user)) {
          c.send(sample).send("mn\r\n");
          String what = user + ": " + sample.strip();
          if (command.name().equals("quit")) {
            assertTrue(c.isClosedByPeer(), what); // every role may quit
            continue;
          }
          String reply = line(c);
          if (role.allows(command.role())) {
            assertFalse(reply.startsWith("CLIENT_ERROR unauth"), what + " -> " + reply);
          } else {
            assertEquals(command.role() == Role.ADMIN ? NEEDS_ADMIN : NEEDS_WRITE, reply, what);
            // The block was skipped, not read as commands: the next reply is mn's.
            assertEquals("MN", line(c), what);
          }
        }
      }
    }
  }

  @Test
  void shouldNeverRevealWhetherAKeyExistsToACommandItRefuses() {
    try (RawConnection w = as("writer")) {
      w.send("set present 0 0 1\r\nx\r\n");
      assertEquals("STORED", line(w));
    }
    try (RawConnection c = as("reader")) {
      for (String command :
          new String[] {
            "delete %s", "touch %s 10", "gat 10 %s", "incr %s 1", "md %s", "mg %s T10 v"
          }) {
        c.send(String.format(command, "present") + "\r\n");
        String present = line(c);
        c.send(String.format(command, "absent") + "\r\n");
        assertEquals(present, line(c), command);
        assertEquals(NEEDS_WRITE, present, command);
      }
      c.send("get present\r\n");
      assertEquals("VALUE present 0 1", line(c)); // and the refused touch changed nothing
    }
  }

  @Test
  void shouldStaySilentForARefusedNoreplyCommandButSkipItsBlock() {
    try (RawConnection c = as("reader")) {
      c.send("set k 0 0 5 noreply\r\nhello\r\ndelete k noreply\r\nflush_all noreply\r\nmn\r\n");
      assertEquals("MN", line(c));
      c.send("ms k 1 q\r\nx\r\nmn\r\n"); // meta's q hides successes, never errors
      assertEquals(NEEDS_WRITE, line(c));
      assertEquals("MN", line(c));
    }
  }

  @Test
  void shouldGiveArgumentDependentRolesAsTheTableSays() {
    try (RawConnection c = as("writer")) {
      for (String line :
          new String[] {"stats reset", "stats detail on", "stats detail dump", "stats conns"}) {
        c.send(line + "\r\n");
        assertEquals(NEEDS_ADMIN, line(c), line);
      }
      c.send("stats settings\r\n");
      assertTrue(line(c).startsWith("STAT "));
    }
    try (RawConnection c = as("reader")) {
      c.send("segdef s 7 dryrun 0\r\nage > 1\r\n");
      assertEquals("COUNT 0", line(c));
      assertEquals("END", line(c));
      c.send("mg k N30 v\r\n");
      assertEquals(NEEDS_WRITE, line(c));
      c.send("local set k 0 0 1\r\nx\r\nlocal get k\r\n");
      assertEquals(NEEDS_WRITE, line(c));
      assertEquals("END", line(c));
    }
  }

  @Test
  void shouldServeAStaleItemToAReaderWithoutTheWinTokenAndLeaveTheWinToAWriter() {
    try (RawConnection writer = as("writer");
        RawConnection reader = as("reader")) {
      writer.send("set stale:k 0 0 1\r\nv\r\nmd stale:k I\r\n");
      assertEquals("STORED", line(writer));
      assertEquals("HD", line(writer));
      // memcached hands W to the first client that reads a stale item; a reader cannot recache,
      // so it reads the value marked stale, with no token, however often it asks.
      for (int i = 0; i < 3; i++) {
        reader.send("mg stale:k v\r\n");
        assertEquals("VA 1 X", line(reader));
        assertEquals("v", line(reader));
      }
      // What a member sends for a reader's mg of a key it does not own: no win, even for a writer.
      writer.send("reader mg stale:k v\r\n");
      assertEquals("VA 1 X", line(writer));
      assertEquals("v", line(writer));
      writer.send("reader get stale:k\r\n");
      assertEquals("ERROR", line(writer)); // the prefix is for mg alone
      writer.send("mg stale:k v\r\n");
      assertEquals("VA 1 X W", line(writer)); // the win is still there for a writer
      assertEquals("v", line(writer));
      reader.send("mg stale:k v\r\n");
      assertEquals("VA 1 Z X", line(reader)); // and then told, as anyone, that it has gone
      assertEquals("v", line(reader));
    }
  }
}
