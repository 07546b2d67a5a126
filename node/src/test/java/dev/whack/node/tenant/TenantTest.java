package dev.whack.node.tenant;

import static dev.whack.node.tenant.Conversations.ask;
import static dev.whack.node.tenant.Conversations.line;
import static dev.whack.node.tenant.Conversations.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.security.Role;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import dev.whack.node.testing.TestUsers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tenants over the text protocol, on a real node: made and dropped by an admin of no tenant, each
 * user working in their own tenant's keyspace, invisible to every other, and kept across a restart
 * with a data directory.
 */
class TenantTest {
  @TempDir Path dir;
  private EmbeddedNode node;

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  /** The test users plus a writer and an admin in each of tenants shop and blog. */
  private Path users() throws IOException {
    Path file = TestUsers.write(dir);
    StringBuilder more = new StringBuilder();
    for (String tenant : new String[] {"shop", "blog"}) {
      more.append(userLine(tenant + "-writer", Role.WRITE, tenant));
      more.append(userLine(tenant + "-admin", Role.ADMIN, tenant));
    }
    Files.writeString(file, Files.readString(file) + more);
    return file;
  }

  private static String userLine(String user, Role role, String tenant) {
    return TestUsers.line(user, TestUsers.password(user), role) + " tenant=" + tenant + "\n";
  }

  @Test
  void shouldKeepEachTenantsKeysAndSegmentsToItself() throws IOException {
    node = EmbeddedNode.start(c -> c.authFile(usersQuietly()));
    try (RawConnection admin = login("admin")) {
      assertEquals("CREATED", ask(admin, "tenant create shop memory=8388608\r\n"));
      assertEquals(
          "CREATED", ask(admin, "tenant create blog memory=8388608 segments=2 rate=0\r\n"));
      assertEquals(
          "CLIENT_ERROR tenant shop exists", ask(admin, "tenant create shop memory=8388608\r\n"));
      assertTrue(
          ask(admin, "tenant create big memory=1\r\n").startsWith("CLIENT_ERROR memory is at"));
      assertTrue(
          ask(admin, "tenant create none\r\n")
              .startsWith("CLIENT_ERROR tenant none needs memory="));
      assertTrue(
          ask(admin, "tenant create Shop memory=8388608\r\n")
              .startsWith("CLIENT_ERROR a tenant name is lower-case letters"));
      assertEquals("STORED", ask(admin, "set k 0 0 7\r\ndefault\r\n"));
    }
    try (RawConnection shop = login("shop-writer");
        RawConnection blog = login("blog-writer");
        RawConnection plain = login("writer")) {
      assertEquals("STORED", ask(shop, "set k 0 0 4\r\nshop\r\n"));
      assertEquals("VALUE k 0 4", ask(shop, "get k\r\n"));
      assertEquals("shop", line(shop));
      assertEquals("END", line(shop));
      // The same key in another tenant is another item; a key of one is unknown to the other.
      assertEquals("END", ask(blog, "get k\r\n"));
      assertEquals("STORED", ask(shop, "set only-shop 0 0 1\r\nx\r\n"));
      assertEquals("END", ask(blog, "get only-shop\r\n"));
      assertEquals("NOT_FOUND", ask(blog, "delete only-shop\r\n"));
      assertEquals("VALUE k 0 7", ask(plain, "get k\r\n"));
      assertEquals("default", line(plain));
      assertEquals("END", line(plain));
      assertEquals("END", ask(plain, "get only-shop\r\n"));
    }
    try (RawConnection shop = login("shop-admin");
        RawConnection blog = login("blog-admin")) {
      // A segment of the same name in both, each over its own profiles.
      assertTrue(ask(shop, update("p1", "{\"set\": {\"age\": 40}}")).startsWith("UPDATED"));
      assertTrue(ask(blog, update("p1", "{\"set\": {\"age\": 10}}")).startsWith("UPDATED"));
      assertEquals("DEFINED 1", ask(shop, "segdef old 8\r\nage > 30\r\n"));
      assertEquals("DEFINED 0", ask(blog, "segdef old 8\r\nage > 30\r\n"));
      assertEquals("COUNT 1", ask(shop, "segcount 3\r\nold\r\n"));
      assertEquals("COUNT 0", ask(blog, "segcount 3\r\nold\r\n"));
      // Flushing one tenant leaves the other's items.
      assertEquals("OK", ask(blog, "flush_all\r\n"));
      assertEquals("VALUE k 0 4", ask(shop, "get k\r\n"));
      line(shop);
      assertEquals("END", line(shop));
      // A tenant's admin manages its own tenant only.
      assertTrue(ask(shop, "tenant list\r\n").startsWith("CLIENT_ERROR unauthorized: tenants"));
    }
  }

  private Path usersQuietly() {
    try {
      return users();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private RawConnection login(String user) {
    return Conversations.login(node, user);
  }
}
