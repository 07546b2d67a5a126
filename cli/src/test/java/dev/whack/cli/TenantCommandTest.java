package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.security.Role;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.TestUsers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code whack tenant create|list|drop} against a node with an auth file, and a tenant's user
 * working in its own keyspace through the CLI.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TenantCommandTest {
  @TempDir static Path dir;
  private EmbeddedNode node;

  @BeforeAll
  void start() throws IOException {
    Path users = TestUsers.write(dir);
    Files.writeString(
        users,
        Files.readString(users)
            + TestUsers.line("shopper", TestUsers.password("shopper"), Role.WRITE)
            + " tenant=shop\n");
    node = EmbeddedNode.start(c -> c.authFile(users));
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private Cli.Run as(String user, String... args) {
    return new Cli(node.address())
        .env("WHACK_PASSWORD", TestUsers.password(user))
        .run(concat(args, "--user", user));
  }

  private static String[] concat(String[] args, String... more) {
    String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
    System.arraycopy(more, 0, all, args.length, more.length);
    return all;
  }

  @Test
  void shouldCreateListAndDropATenantWhoseUserSeesOnlyItsOwnProfiles() {
    Cli.Run created =
        as(
            "admin",
            "tenant",
            "create",
            "shop",
            "--memory",
            "64m",
            "--segments",
            "5",
            "--rate",
            "0");
    assertEquals(0, created.exitCode(), created.toString());
    assertEquals("created tenant shop\n", created.out());
    Cli.Run again = as("admin", "tenant", "create", "shop", "--memory", "1m");
    assertEquals(Whack.EXIT_FAILED, again.exitCode(), again.toString());
    assertTrue(again.err().contains("tenant shop exists"), again.toString());

    assertEquals(0, as("shopper", "set", "p:1", "{\"age\":42}").exitCode());
    assertEquals(0, as("writer", "set", "p:1", "{\"age\":7}").exitCode());
    Cli.Run mine = as("shopper", "get", "p:1");
    assertTrue(mine.out().contains("\"age\":42"), mine.toString());
    Cli.Run theirs = as("reader", "get", "p:1");
    assertTrue(theirs.out().contains("\"age\":7"), theirs.toString());

    Cli.Run list = as("admin", "tenant", "list", "--json");
    assertEquals(0, list.exitCode(), list.toString());
    assertTrue(list.out().startsWith("[{\"name\":\"default\""), list.toString());
    assertTrue(
        list.out().contains("{\"name\":\"shop\",\"memory_quota\":67108864,\"segments_quota\":5,"),
        list.toString());
    Cli.Run table = as("admin", "tenant", "list");
    assertTrue(table.out().startsWith("TENANT "), table.toString());

    Cli.Run notAllowed = as("shopper", "tenant", "list");
    assertEquals(Whack.EXIT_FAILED, notAllowed.exitCode(), notAllowed.toString());

    Cli.Run dropped = as("admin", "tenant", "drop", "shop");
    assertEquals("dropped tenant shop\n", dropped.out(), dropped.toString());
    Cli.Run none = as("admin", "tenant", "drop", "shop");
    assertEquals(Whack.EXIT_FAILED, none.exitCode(), none.toString());
    assertTrue(none.err().contains("no tenant shop"), none.toString());
  }
}
