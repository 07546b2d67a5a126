package dev.whack.node.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.TestUsers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthFileTest {
  @TempDir Path dir;

  @Test
  void shouldReadUsersSkippingCommentsAndBlankLines() {
    Map<String, User> users =
        AuthFile.parse(
            List.of(
                "# who may do what",
                "",
                "   ",
                TestUsers.line("alice", "a secret", Role.WRITE),
                "  # indented comment",
                TestUsers.line("bob", "b", Role.ADMIN).replace(' ', '\t')),
            "users");
    assertEquals(2, users.size());
    assertEquals(Role.WRITE, users.get("alice").role());
    assertEquals(Role.ADMIN, users.get("bob").role());
  }

  @Test
  void shouldReadTheTenantOfAUser() {
    Map<String, User> users =
        AuthFile.parse(
            List.of(
                TestUsers.line("alice", "a", Role.WRITE) + "  tenant=shop",
                TestUsers.line("root", "r", Role.ADMIN),
                TestUsers.line("boss", "b", Role.ADMIN) + "\ttenant=shop"),
            "users");
    assertEquals("shop", users.get("alice").tenant());
    assertNull(users.get("root").tenant());
    assertTrue(users.get("root").adminOfAllTenants());
    assertFalse(users.get("boss").adminOfAllTenants(), "an admin of one tenant only");
  }

  @Test
  void shouldRefuseABadLineNamingItsNumber() {
    String good = TestUsers.line("alice", "pw", Role.READ);
    assertMessage(
        "users line 3: the role is read, write or admin, not owner",
        good,
        "",
        "bob owner " + good.split(" ")[2]);
    assertMessage(
        "users line 2: a user line is <user> <read|write|admin> <password hash> [tenant=<name>],"
            + " got 2 fields",
        good,
        "bob read");
    assertMessage(
        "users line 1: a user name is made of A-Z a-z 0-9 . _ @ -: bo:b",
        "bo:b read " + good.split(" ")[2]);
    assertMessage("users line 2: user alice is listed twice", good, good);
    assertMessage("users line 1: the fourth field is tenant=<name>, not shop", good + " shop");
    assertMessage(
        "users line 1: a tenant name is lower-case letters, digits, '-', '_' and '.', starting with"
            + " a letter or digit: ..",
        good + " tenant=..");
    assertMessage(
        "users line 1: a password hash is pbkdf2-sha256$<iterations>$<salt>$<hash> (make one with whack auth hash)",
        "bob read plaintext-password");
    assertMessage(
        "users line 1: the hash's iterations must be from 1000 to 10000000",
        "bob read pbkdf2-sha256$10$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  }

  private static void assertMessage(String expected, String... lines) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> AuthFile.parse(List.of(lines), "users"));
    assertEquals(expected, e.getMessage());
  }

  @Test
  void shouldMatchOnlyTheHashedPassword() {
    PasswordHash hash = PasswordHash.of("correct horse".toCharArray(), PasswordHash.MIN_ITERATIONS);
    PasswordHash again = PasswordHash.parse(hash.toString());
    assertTrue(again.matches("correct horse".toCharArray()));
    assertFalse(again.matches("correct horse ".toCharArray()));
    assertFalse(again.matches("".toCharArray()));
    assertFalse(hash.toString().contains("correct"));
  }

  @Test
  void shouldCheckPasswordsAndRememberTheLastOneVerified() throws Exception {
    try (Authenticator auth =
        Authenticator.of(List.of(TestUsers.line("alice", "pw", Role.WRITE)))) {
      assertEquals(Role.WRITE, auth.check("alice", "pw").get().role());
      // Verified once: the next check is answered at once, without PBKDF2.
      assertTrue(auth.check("alice", "pw").isDone());
      assertNull(auth.check("alice", "wrong").get());
      assertNull(auth.check("nobody", "pw").get());
      assertEquals(Role.WRITE, auth.check("alice", "pw").get().role());
    }
  }

  @Test
  void shouldKeepTheUsersItHadWhenAReloadFindsABadLine() throws Exception {
    Path file = TestUsers.write(dir);
    try (Authenticator auth = Authenticator.load(file)) {
      assertEquals(3, auth.userCount());
      Files.writeString(file, TestUsers.line("carol", "c", Role.READ) + "\nbroken line here too\n");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, auth::reload);
      assertTrue(e.getMessage().startsWith(file + " line 2: "), e.getMessage());
      assertEquals(Role.READ, auth.check("reader", "reader-pw").get().role());
      assertNull(auth.check("carol", "c").get());
      Files.writeString(file, TestUsers.line("carol", "c", Role.READ) + "\n");
      assertEquals(1, auth.reload());
      assertEquals(Role.READ, auth.check("carol", "c").get().role());
      assertNull(auth.check("reader", "reader-pw").get());
    }
  }
}
