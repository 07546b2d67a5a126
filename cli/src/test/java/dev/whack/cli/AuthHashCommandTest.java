package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.whack.node.security.Authenticator;
import dev.whack.node.security.Role;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
      assertEquals(Role.WRITE, auth.check("alice", "s3cret pass phrase").get().role());
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

  @Test
  void shouldTakeATypedPasswordFromTheTerminalAndPrintOnlyTheLine() throws Exception {
    List<String> prompts = new ArrayList<>();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Terminal typing =
        new Terminal(
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            false,
            name -> null,
            prompt -> {
              prompts.add(prompt);
              return Optional.of("typed at the terminal");
            });
    int code =
        Whack.commandLine(typing).execute("auth", "hash", "bob", "read", "--iterations", "1000");
    assertEquals(0, code, err::toString);
    assertEquals(List.of("Password for bob: "), prompts);
    String printed = out.toString(StandardCharsets.UTF_8);
    assertTrue(printed.matches("bob read pbkdf2-sha256\\$1000\\$\\S+\n"), printed);
    try (Authenticator auth = Authenticator.of(List.of(printed.strip()))) {
      assertEquals(Role.READ, auth.check("bob", "typed at the terminal").get().role());
    }
  }

  /**
   * The real terminal: the CLI in a JVM of its own under a pseudo-terminal ({@code script}), its
   * stdout redirected to a file as {@code whack auth hash alice write >> users} has it. The
   * password is typed once the prompt shows, and the terminal never shows it back.
   */
  @Test
  void shouldNotEchoAPasswordTypedAtARealTerminal(@TempDir Path dir) throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "needs util-linux's script");
    Path users = dir.resolve("users");
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String command =
        javaBin
            + " -cp "
            + System.getProperty("java.class.path")
            + " dev.whack.cli.Whack auth hash carol write --iterations 1000 > "
            + users;
    Process script =
        new ProcessBuilder("/usr/bin/script", "-qec", command, "/dev/null")
            .redirectErrorStream(true)
            .start();
    StringBuffer screen = new StringBuffer();
    Thread reader =
        new Thread(
            () -> {
              try (var in = script.getInputStream()) {
                byte[] buf = new byte[4096];
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                  screen.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
              } catch (IOException e) {
                // the process ended
              }
            });
    reader.start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!screen.toString().contains("Password for carol: ")) {
        assertTrue(System.nanoTime() < deadline, "no prompt on the terminal: " + screen);
        Thread.sleep(20);
      }
      script.getOutputStream().write("typed-secret-9\n".getBytes(StandardCharsets.UTF_8));
      script.getOutputStream().flush();
      assertTrue(script.waitFor(30, TimeUnit.SECONDS), "still running");
      reader.join(5000);
    } finally {
      script.destroyForcibly();
    }
    assertFalse(screen.toString().contains("typed-secret-9"), screen.toString());
    String line = Files.readString(users).strip();
    assertTrue(line.startsWith("carol write pbkdf2-sha256$1000$"), line + " / " + screen);
    try (Authenticator auth = Authenticator.of(List.of(line))) {
      assertEquals(Role.WRITE, auth.check("carol", "typed-secret-9").get().role());
    }
  }
}
