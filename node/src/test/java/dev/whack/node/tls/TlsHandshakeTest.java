package dev.whack.node.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.NodeUnavailableException;
import dev.whack.client.WhackClient;
import dev.whack.client.tls.ClientTls;
import dev.whack.node.config.TlsOptions;
import dev.whack.node.config.TlsOptions.ClientAuth;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.TlsCertificates;
import dev.whack.node.testing.TlsCertificates.Ca;
import dev.whack.node.testing.TlsCertificates.Issued;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The handshake matrix of the memcached port over real sockets, with the JDK's TLS on the client
 * side (another implementation than the node's): with and without a client certificate against each
 * client-auth mode, a certificate from another CA on either side, and a plaintext client, which
 * gets memcached's error line and a close, never a hang.
 */
class TlsHandshakeTest {
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(5);

  @TempDir static Path dir;
  private static Ca ca;
  private static Ca otherCa;
  private static Issued node;
  private static Issued client;
  private static Issued strangerClient;

  private EmbeddedNode running;

  @BeforeAll
  static void certificates() {
    ca = TlsCertificates.ca("Whack Test CA", dir);
    otherCa = TlsCertificates.ca("Other CA", dir);
    node = ca.node("node");
    client = ca.client("app");
    strangerClient = otherCa.client("stranger");
  }

  @AfterEach
  void stop() {
    if (running != null) {
      running.close();
    }
  }

  private EmbeddedNode start(Path caFile, ClientAuth auth) {
    running =
        EmbeddedNode.start(
            c -> c.tls(new TlsOptions(node.certFile(), node.keyFile(), caFile, auth)));
    return running;
  }

  /** Sends {@code version} over TLS and returns the reply line. */
  private static String version(SSLContext context, int port) throws IOException {
    try (SSLSocket socket = TlsCertificates.connect(context, port, READ_TIMEOUT)) {
      socket.getOutputStream().write("version\r\n".getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      return readLine(socket.getInputStream());
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      line.write(b);
      if (b == '\n') {
        break;
      }
    }
    return line.toString(StandardCharsets.US_ASCII);
  }

  @Test
  void shouldRunOpenSslWhereNettyTcnativeShipsALibrary() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        System.getProperty("os.name").equals("Linux")
            && System.getProperty("os.arch").equals("amd64"));
    EmbeddedNode n = start(null, null);
    assertTrue(
        n.node().tls().openSsl(),
        "netty-tcnative did not load: " + io.netty.handler.ssl.OpenSsl.unavailabilityCause());
    assertTrue(n.node().tls().provider().startsWith("OpenSSL ("), n.node().tls().provider());
  }

  @Test
  void shouldServeAClientWithoutCertificateWhenClientAuthIsNone() throws IOException {
    EmbeddedNode n = start(null, null);
    assertTrue(version(TlsCertificates.clientContext(ca, null), n.port()).startsWith("VERSION "));
  }

  @Test
  void shouldNotAskForAClientCertificateWhenClientAuthIsNoneEvenIfOneIsOffered()
      throws IOException {
    EmbeddedNode n = start(ca.file(), ClientAuth.NONE);
    try (SSLSocket s =
        TlsCertificates.connect(
            TlsCertificates.clientContext(ca, strangerClient), n.port(), READ_TIMEOUT)) {
      s.getOutputStream().write("version\r\n".getBytes(StandardCharsets.US_ASCII));
      assertTrue(readLine(s.getInputStream()).startsWith("VERSION "));
      assertEquals(null, s.getSession().getLocalCertificates());
    }
  }

  @Test
  void shouldServeAClientWithoutCertificateWhenClientAuthIsOptional() throws IOException {
    EmbeddedNode n = start(ca.file(), ClientAuth.OPTIONAL);
    assertTrue(version(TlsCertificates.clientContext(ca, null), n.port()).startsWith("VERSION "));
    assertTrue(version(TlsCertificates.clientContext(ca, client), n.port()).startsWith("VERSION "));
  }

  @Test
  void shouldRefuseACertificateFromAnotherCaWhenClientAuthIsOptional() {
    EmbeddedNode n = start(ca.file(), ClientAuth.OPTIONAL);
    assertRefused(TlsCertificates.clientContext(ca, strangerClient), n.port());
  }

  @Test
  void shouldRefuseAClientWithoutCertificateWhenClientAuthIsRequired() {
    EmbeddedNode n = start(ca.file(), ClientAuth.REQUIRE);
    assertRefused(TlsCertificates.clientContext(ca, null), n.port());
  }

  @Test
  void shouldServeAClientWithARequiredCertificateFromTheCa() throws IOException {
    EmbeddedNode n = start(ca.file(), ClientAuth.REQUIRE);
    assertTrue(version(TlsCertificates.clientContext(ca, client), n.port()).startsWith("VERSION "));
  }

  @Test
  void shouldRequireClientCertificatesByDefaultWhenACaIsGiven() {
    EmbeddedNode n = start(ca.file(), null);
    assertEquals(ClientAuth.REQUIRE, n.node().config().tls().clientAuth());
    assertRefused(TlsCertificates.clientContext(ca, null), n.port());
  }

  @Test
  void shouldRefuseAClientCertificateFromAnotherCaWhenRequired() {
    EmbeddedNode n = start(ca.file(), ClientAuth.REQUIRE);
    assertRefused(TlsCertificates.clientContext(ca, strangerClient), n.port());
  }

  @Test
  void clientShouldRejectANodeWhoseCertificateIsFromAnotherCa() {
    EmbeddedNode n = start(null, null);
    assertThrows(
        SSLHandshakeException.class,
        () ->
            TlsCertificates.connect(
                    TlsCertificates.clientContext(otherCa, null), n.port(), READ_TIMEOUT)
                .close());
  }

  /**
   * The server's refusal of a client certificate reaches a TLS 1.3 client after its side of the
   * handshake is done, as an alert on its first read: either way it never gets an answer.
   */
  private static void assertRefused(SSLContext context, int port) {
    IOException refused =
        assertThrows(
            IOException.class,
            () -> {
              String line = version(context, port);
              if (line.isEmpty()) {
                throw new SSLException("closed without an answer"); // the close came first
              }
              throw new AssertionError("served: " + line);
            });
    assertTrue(
        !(refused instanceof SocketTimeoutException), "hung instead of refusing: " + refused);
  }

  @Test
  void aTlsClientPastTheConnectionLimitShouldReadMemcachedsRefusalOverTls() throws IOException {
    running =
        EmbeddedNode.start(
            c ->
                c.maxConnections(1)
                    .tls(new TlsOptions(node.certFile(), node.keyFile(), null, null)));
    SSLContext context = TlsCertificates.clientContext(ca, null);
    try (SSLSocket first = TlsCertificates.connect(context, running.port(), READ_TIMEOUT)) {
      first.getOutputStream().write("version\r\n".getBytes(StandardCharsets.US_ASCII));
      assertTrue(readLine(first.getInputStream()).startsWith("VERSION "));
      try (SSLSocket second = TlsCertificates.connect(context, running.port(), READ_TIMEOUT)) {
        assertEquals("ERROR Too many open connections\r\n", readLine(second.getInputStream()));
        assertEquals(-1, second.getInputStream().read());
      }
    }
  }

  @Test
  void shouldTellAPlaintextClientThatThePortRequiresTlsAndClose() throws IOException {
    EmbeddedNode n = start(null, null);
    assertEquals(
        "SERVER_ERROR this port requires TLS\r\n", plaintextExchange(n.port(), "version\r\n"));
  }

  @Test
  void shouldTellAPlaintextBinaryClientTheSameAndClose() throws IOException {
    EmbeddedNode n = start(null, null);
    byte[] noop = new byte[24];
    noop[0] = (byte) 0x80;
    noop[1] = 0x0a;
    assertEquals(
        "SERVER_ERROR this port requires TLS\r\n",
        plaintextExchange(n.port(), new String(noop, StandardCharsets.ISO_8859_1)));
  }

  @Test
  void shouldAnswerAPlaintextClientAfterItsFirstByte() throws IOException {
    EmbeddedNode n = start(null, null);
    assertEquals("SERVER_ERROR this port requires TLS\r\n", plaintextExchange(n.port(), "g"));
  }

  /** Sends {@code request} in plaintext and reads everything until the node closes. */
  private static String plaintextExchange(int port, String request) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      // readAllBytes returns at the close; a hang is a SocketTimeoutException
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }
  }

  @Test
  void javaClientShouldStoreAndReadOverTlsWithItsCertificate() throws Exception {
    EmbeddedNode n = start(ca.file(), ClientAuth.REQUIRE);
    ClientTls tls =
        ClientTls.builder()
            .trustCa(ca.file())
            .certificate(client.certFile(), client.keyFile())
            .build();
    try (WhackClient c = WhackClient.builder().servers(n.address()).tls(tls).build()) {
      c.set("tls:key", "over TLS".getBytes(StandardCharsets.UTF_8)).get();
      assertEquals("over TLS", c.get("tls:key").get().orElseThrow().valueAsString());
    }
  }

  @Test
  void javaClientShouldFailFastNamingTheHandshakeWhenItDoesNotTrustTheNode() {
    EmbeddedNode n = start(null, null);
    ClientTls tls = ClientTls.builder().trustCa(otherCa.file()).build();
    try (WhackClient c = WhackClient.builder().servers(n.address()).tls(tls).build()) {
      ExecutionException failed = assertThrows(ExecutionException.class, () -> c.get("k").get());
      assertTrue(failed.getCause() instanceof NodeUnavailableException, failed.toString());
      assertTrue(
          failed.getCause().getMessage().contains("TLS handshake failed"),
          failed.getCause().getMessage());
    }
  }

  @Test
  void plaintextJavaClientShouldSeeTheNodeDownBecauseItsPortRequiresTls() {
    EmbeddedNode n = start(null, null);
    try (WhackClient c = WhackClient.builder().servers(n.address()).build()) {
      ExecutionException failed = assertThrows(ExecutionException.class, () -> c.get("k").get());
      assertTrue(failed.getCause() instanceof NodeUnavailableException, failed.toString());
      assertTrue(
          failed.getCause().getMessage().contains("its port requires TLS"),
          failed.getCause().getMessage());
    }
  }

  @Test
  void javaClientShouldBeRefusedWithoutTheRequiredCertificate() {
    EmbeddedNode n = start(ca.file(), ClientAuth.REQUIRE);
    ClientTls tls = ClientTls.builder().trustCa(ca.file()).build();
    try (WhackClient c = WhackClient.builder().servers(n.address()).tls(tls).build()) {
      ExecutionException failed = assertThrows(ExecutionException.class, () -> c.get("k").get());
      assertTrue(failed.getCause() instanceof dev.whack.client.WhackException, failed.toString());
    }
  }
}
