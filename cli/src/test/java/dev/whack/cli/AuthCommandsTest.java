package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
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
 * The CLI's commands against a node with an auth file: {@code --user} with the password from {@code
 * --password-file} or {@code WHACK_PASSWORD} on the memcached and gRPC ports; a wrong password
 * leaves the node unreachable (exit 3) saying authentication failed for the user; a reader's writes
 * are refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthCommandsTest {
  @TempDir static Path dir;
  private EmbeddedNode node;
  private String grpc;

  @BeforeAll
  void start() {
    Path users = TestUsers.write(dir);
    int port = FreePorts.take(1)[0];
    node = EmbeddedNode.start(c -> c.authFile(users).grpcPort(port));
    grpc = "127.0.0.1:" + port;
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private Path passwordFile(String name, String password) throws IOException {
    return Files.writeString(dir.resolve(name), password + "\n");
  }

  private Cli cli() {
    return new Cli(node.address());
  }

  @Test
  void setGetAndStatsShouldWorkWithAPasswordFile() throws IOException {
    String file = passwordFile("writer-pw", "writer-pw").toString();
    Cli.Run set =
        cli().run("set", "cli:auth", "{\"age\":42}", "--user", "writer", "--password-file", file);
    assertEquals(0, set.exitCode(), set.toString());
    Cli.Run get = cli().run("get", "cli:auth", "--user", "writer", "--password-file", file);
    assertEquals(0, get.exitCode(), get.toString());
    assertTrue(get.out().contains("\"age\":42"), get.toString());
    Cli.Run stats = cli().run("stats", "--user", "reader", "--password-file", reader());
    assertEquals(0, stats.exitCode(), stats.toString());
  }

  private String reader() throws IOException {
    return passwordFile("reader-pw", "reader-pw").toString();
  }

  @Test
  void thePasswordShouldComeFromTheEnvironmentWithoutAFile() {
    Cli.Run get =
        cli().env("WHACK_PASSWORD", "reader-pw").run("get", "cli:none", "--user", "reader");
    assertEquals(Whack.EXIT_FAILED, get.exitCode(), get.toString());
    assertTrue(get.err().contains("no profile cli:none"), get.toString());
  }

  @Test
  void aWrongPasswordShouldLeaveTheNodeUnreachableNamingTheUser() {
    Cli.Run get = cli().env("WHACK_PASSWORD", "not-it").run("get", "cli:x", "--user", "writer");
    assertEquals(Whack.EXIT_UNREACHABLE, get.exitCode(), get.toString());
    assertTrue(get.err().contains("authentication failed for writer"), get.toString());
  }

  @Test
  void withoutCredentialsTheNodesRefusalShouldBeWhatTheUserReads() {
    Cli.Run get = cli().run("get", "cli:x");
    assertEquals(Whack.EXIT_FAILED, get.exitCode(), get.toString());
    assertTrue(get.err().contains("unauthenticated"), get.toString());
  }

  @Test
  void aUserWithoutAPasswordIsAUsageError() {
    Cli.Run get = cli().run("get", "cli:x", "--user", "writer");
    assertEquals(Whack.EXIT_USAGE, get.exitCode(), get.toString());
    assertTrue(
        get.err().contains("--user writer needs its password: --password-file FILE or"),
        get.toString());
    Cli.Run missing =
        cli().run("get", "cli:x", "--user", "writer", "--password-file", dir.resolve("nope") + "");
    assertEquals(Whack.EXIT_USAGE, missing.exitCode(), missing.toString());
    assertTrue(missing.err().contains("nope"), missing.toString());
  }

  @Test
  void aReaderShouldNotWrite() throws IOException {
    Cli.Run set =
        cli().run("set", "cli:r", "{\"age\":1}", "--user", "reader", "--password-file", reader());
    assertEquals(Whack.EXIT_FAILED, set.exitCode(), set.toString());
    assertTrue(set.err().contains("unauthorized: the write role is required"), set.toString());
  }

  private Path records() throws IOException {
    return Files.writeString(
        dir.resolve("records.ndjson"), "{\"key\":\"g:1\",\"update\":{\"incr\":{\"n\":1}}}\n");
  }

  @Test
  void loadOverGrpcShouldSendTheCredentials() throws IOException {
    Cli.Run load =
        cli()
            .env("WHACK_PASSWORD", "writer-pw")
            .run("load", "--grpc", grpc, "--user", "writer", records().toString());
    assertEquals(0, load.exitCode(), load.toString());
    Cli.Run wrong =
        cli()
            .env("WHACK_PASSWORD", "not-it")
            .run("load", "--grpc", grpc, "--user", "writer", records().toString());
    assertEquals(Whack.EXIT_UNREACHABLE, wrong.exitCode(), wrong.toString());
    assertTrue(wrong.err().contains("authentication failed for writer"), wrong.toString());
    Cli.Run reader =
        cli()
            .env("WHACK_PASSWORD", "reader-pw")
            .run("load", "--grpc", grpc, "--user", "reader", records().toString());
    assertTrue(reader.exitCode() != 0, reader.toString());
    assertTrue(reader.err().contains("the write role is required"), reader.toString());
  }
}
