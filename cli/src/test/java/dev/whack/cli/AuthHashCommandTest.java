package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.security.Authenticator;
import dev.whack.node.security.Role;
import java.util.List;
import org.junit.jupiter.api.Test;

class AuthHashCommandTest {
  @Test
  void shouldPrintALineTheNodeAcceptsForThePasswordOnStdin() throws Exception {
    Cli.Run run =
        new Cli(null)
            .stdin("s3cret pass phrase\n")
            .run("auth", "hash", "alice", "write", "--iterations", "1000");
    assertEquals(0, run.exitCode(), run::toString);
    String line = run.out().strip();
    assertTrue(line.startsWith("alice write pbkdf2-sha256$1000$"), line);
    assertFalse(line.contains("s3cret"), line);
    try (Authenticator auth = Authenticator.of(List.of(line))) {
      assertEquals(Role.WRITE, auth.check("alice", "s3cret pass phrase").get());
    }
  }

  @Test
  void shouldRefuseABadRoleOrNameOrNoPassword() {
    assertEquals(2, new Cli(null).stdin("pw\n").run("auth", "hash", "alice", "owner").exitCode());
    assertEquals(2, new Cli(null).stdin("pw\n").run("auth", "hash", "al ice", "read").exitCode());
    Cli.Run empty = new Cli(null).run("auth", "hash", "alice", "read");
    assertEquals(2, empty.exitCode());
    assertEquals("whack auth hash: no password on standard input\n", empty.err());
  }
}
