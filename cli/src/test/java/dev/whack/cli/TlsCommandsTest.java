package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.config.TlsOptions;
import dev.whack.node.config.TlsOptions.ClientAuth;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.TlsCertificates;
import dev.whack.node.testing.TlsCertificates.Ca;
import dev.whack.node.testing.TlsCertificates.Issued;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's commands against a node that requires client certificates: {@code --tls-ca}, {@code
 * --tls-cert} and {@code --tls-key} get them served; without a certificate the node cannot be
 * reached (exit 3), and without TLS the node's refusal is what the user reads.
 */
class TlsCommandsTest {
  @TempDir static Path dir;
  private static Ca ca;
  private static Issued app;
  private static EmbeddedNode node;

  @BeforeAll
  static void start() {
    ca = TlsCertificates.ca("CLI CA", dir);
    Issued server = ca.node("node");
    app = ca.client("cli");
    node =
        EmbeddedNode.start(
            c ->
                c.tls(
                    new TlsOptions(
                        server.certFile(), server.keyFile(), ca.file(), ClientAuth.REQUIRE)));
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static String[] tls(String... command) {
    return Cli.args(
        command,
        "--tls-ca",
        ca.file().toString(),
        "--tls-cert",
        app.certFile().toString(),
        "--tls-key",
        app.keyFile().toString());
  }

  @Test
  void setAndGetShouldWorkOverTlsWithAClientCertificate() {
    Cli cli = new Cli(node.address());
    Cli.Run set = cli.run(tls("set", "cli:tls", "{\"age\":42}"));
    assertEquals(0, set.exitCode(), set.toString());
    Cli.Run get = cli.run(tls("get", "cli:tls"));
    assertEquals(0, get.exitCode(), get.toString());
    assertTrue(get.out().contains("\"age\":42"), get.toString());
  }

  @Test
  void statsShouldReportTheNodeOverTls() {
    Cli.Run stats = new Cli(node.address()).run(tls("stats"));
    assertEquals(0, stats.exitCode(), stats.toString());
    assertTrue(stats.out().contains(node.address()), stats.toString());
  }

  @Test
  void withoutTheClientCertificateTheNodeIsUnreachableAndTheHandshakeIsNamed() {
    Cli.Run get = new Cli(node.address()).run("get", "cli:tls", "--tls-ca", ca.file().toString());
    assertEquals(Whack.EXIT_UNREACHABLE, get.exitCode(), get.toString());
  }

  @Test
  void withoutTlsThePlaintextRefusalIsWhatTheUserSees() {
    Cli.Run get = new Cli(node.address()).run("get", "cli:tls");
    assertEquals(Whack.EXIT_UNREACHABLE, get.exitCode(), get.toString());
    assertTrue(get.err().contains("port requires TLS"), get.toString());
  }

  @Test
  void aMissingCaFileIsAUsageErrorNamingTheFile() {
    Cli.Run get =
        new Cli(node.address())
            .run("get", "cli:tls", "--tls-ca", dir.resolve("nope.pem").toString());
    assertEquals(Whack.EXIT_USAGE, get.exitCode(), get.toString());
    assertTrue(get.err().contains("nope.pem"), get.toString());
  }
}
