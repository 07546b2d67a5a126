package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.config.TlsOptions;
import dev.whack.node.config.TlsOptions.ClientAuth;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.TlsCertificates;
import dev.whack.node.testing.TlsCertificates.Ca;
import dev.whack.node.testing.TlsCertificates.Issued;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's commands against a node that requires client certificates: {@code --tls-ca}, {@code
 * --tls-cert} and {@code --tls-key} get them served, on the memcached port and by {@code load
 * --grpc} on the gRPC port; without a certificate the node cannot be reached (exit 3), and without
 * TLS the node's refusal is what the user reads.
 */
class TlsCommandsTest {
  @TempDir static Path dir;
  private static Ca ca;
  private static Issued app;
  private static EmbeddedNode node;
  private static String grpc;

  @BeforeAll
  static void start() {
    ca = TlsCertificates.ca("CLI CA", dir);
    Issued server = ca.node("node");
    app = ca.client("cli");
    int grpcPort = FreePorts.take(1)[0];
    grpc = "127.0.0.1:" + grpcPort;
    node =
        EmbeddedNode.start(
            c ->
                c.grpcPort(grpcPort)
                    .tls(
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

  private static Path records(String name) throws IOException {
    Path file = dir.resolve(name + ".ndjson");
    Files.writeString(
        file,
        "{\"key\":\""
            + name
            + ":1\",\"profile\":{\"n\":1}}\n"
            + "{\"key\":\""
            + name
            + ":1\",\"update\":{\"incr\":{\"n\":2}}}\n");
    return file;
  }

  @Test
  void loadOverGrpcShouldSpeakTlsWithTheCaAndTheClientCertificate() throws IOException {
    Cli cli = new Cli(node.address());
    Cli.Run load = cli.run(tls("load", "--grpc", grpc, records("grpctls").toString()));
    assertEquals(0, load.exitCode(), load.toString());
    assertTrue(load.out().startsWith("loaded 2 records "), load.toString());
    Cli.Run get = cli.run(tls("get", "grpctls:1"));
    assertEquals("{\"n\":3}\n", get.out(), get.toString());
  }

  @Test
  void loadOverGrpcWithoutTheClientCertificateIsUnreachableNamingTheHandshake() throws IOException {
    Cli.Run load =
        new Cli(node.address())
            .run(
                "load",
                "--grpc",
                grpc,
                "--tls-ca",
                ca.file().toString(),
                records("nocert").toString());
    assertEquals(Whack.EXIT_UNREACHABLE, load.exitCode(), load.toString());
    assertTrue(load.err().contains("TLS handshake failed"), load.toString());
  }

  @Test
  void loadOverGrpcWithoutTlsIsUnreachable() throws IOException {
    Cli.Run load = new Cli(node.address()).run("load", "--grpc", grpc, records("plain").toString());
    assertEquals(Whack.EXIT_UNREACHABLE, load.exitCode(), load.toString());
  }

  @Test
  void loadOverGrpcWithAMissingKeyFileIsAUsageErrorNamingIt() throws IOException {
    Cli.Run load =
        new Cli(node.address())
            .run(
                "load",
                "--grpc",
                grpc,
                "--tls-ca",
                ca.file().toString(),
                "--tls-cert",
                app.certFile().toString(),
                "--tls-key",
                dir.resolve("nope.key").toString(),
                records("nokey").toString());
    assertEquals(Whack.EXIT_USAGE, load.exitCode(), load.toString());
    assertTrue(load.err().contains("nope.key"), load.toString());
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
