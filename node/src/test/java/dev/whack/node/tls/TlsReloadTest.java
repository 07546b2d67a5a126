package dev.whack.node.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.config.TlsOptions;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.TlsCertificates;
import dev.whack.node.testing.TlsCertificates.Ca;
import dev.whack.node.testing.TlsCertificates.Issued;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificate reload without a restart: new connections get the new certificate, connections made
 * before go on with theirs, and a bad new file keeps the old certificate in use.
 */
class TlsReloadTest {
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(5);

  @TempDir Path dir;
  private Ca ca;
  private SSLContext client;
  private Path certFile;
  private Path keyFile;
  private Issued first;
  private EmbeddedNode node;

  @BeforeEach
  void start() {
    ca = TlsCertificates.ca("Reload CA", dir);
    client = TlsCertificates.clientContext(ca, null);
    first = ca.node("first");
    certFile = dir.resolve("node.pem");
    keyFile = dir.resolve("node.key");
    first.writeTo(certFile, keyFile);
    node = EmbeddedNode.start(c -> c.tls(new TlsOptions(certFile, keyFile, null, null)));
  }

  @AfterEach
  void stop() {
    node.close();
  }

  private BigInteger servedSerial() throws IOException {
    try (SSLSocket s = TlsCertificates.connect(client, node.port(), READ_TIMEOUT)) {
      return TlsCertificates.serverCertificate(s).getSerialNumber();
    }
  }

  private static String version(SSLSocket s) throws IOException {
    s.getOutputStream().write("version\r\n".getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = s.getInputStream().read()) != -1 && b != '\n') {
      line.write(b);
    }
    return line.toString(StandardCharsets.US_ASCII);
  }

  @Test
  void shouldServeTheNewCertificateToNewConnectionsAndKeepOldConnectionsWorking()
      throws IOException {
    try (SSLSocket before = TlsCertificates.connect(client, node.port(), READ_TIMEOUT)) {
      assertTrue(version(before).startsWith("VERSION "));
      Issued second = ca.node("second");
      second.writeTo(certFile, keyFile);

      assertTrue(node.node().reloadTls());

      assertEquals(second.certificate().getSerialNumber(), servedSerial());
      assertTrue(version(before).startsWith("VERSION "), "the old connection goes on");
      assertEquals(
          first.certificate().getSerialNumber(),
          TlsCertificates.serverCertificate(before).getSerialNumber());
    }
  }

  @Test
  void shouldKeepTheOldCertificateWhenTheNewFileIsNotPem() throws IOException {
    Files.writeString(certFile, "not a certificate\n");
    assertFalse(node.node().reloadTls());
    assertEquals(first.certificate().getSerialNumber(), servedSerial());
  }

  /** An expired certificate would fail every handshake: the one in use stays. */
  @Test
  void shouldKeepTheOldCertificateWhenTheNewOneHasExpired() throws IOException {
    ca.expiredNode("expired").writeTo(certFile, keyFile);
    assertFalse(node.node().reloadTls());
    assertEquals(first.certificate().getSerialNumber(), servedSerial());
  }

  @Test
  void shouldKeepTheOldCertificateWhenTheNewKeyIsNotItsKey() throws IOException {
    Issued second = ca.node("second");
    // The certificate replaced, the key not yet: a deploy caught half-way.
    Files.copy(second.certFile(), certFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertFalse(node.node().reloadTls());
    assertEquals(first.certificate().getSerialNumber(), servedSerial());
    // and once the key follows, the pair is taken
    Files.copy(second.keyFile(), keyFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertTrue(node.node().reloadTls());
    assertEquals(second.certificate().getSerialNumber(), servedSerial());
  }

  @Test
  void shouldReloadByItselfWhenTheFilesChange() throws Exception {
    Issued second = ca.node("second");
    second.writeTo(certFile, keyFile);
    awaitServed(second.certificate().getSerialNumber(), Duration.ofSeconds(10));
  }

  @Test
  void shouldReloadOnSighup() throws Exception {
    Issued second = ca.node("second");
    second.writeTo(certFile, keyFile);
    // The node handles SIGHUP since it started with TLS (otherwise the signal stops the JVM).
    Process kill =
        new ProcessBuilder("kill", "-HUP", Long.toString(ProcessHandle.current().pid()))
            .inheritIO()
            .start();
    assertTrue(kill.waitFor(5, TimeUnit.SECONDS) && kill.exitValue() == 0);
    // Well before the file check's first turn (2 s) could have done it.
    awaitServed(second.certificate().getSerialNumber(), Duration.ofMillis(1500));
  }

  private void awaitServed(BigInteger serial, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    BigInteger served;
    while (!(served = servedSerial()).equals(serial)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("still serving " + served + " after " + within);
      }
      Thread.sleep(50);
    }
  }
}
