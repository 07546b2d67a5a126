package dev.whack.node.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.NodeProcess;
import dev.whack.node.testing.TlsCertificates;
import dev.whack.node.testing.TlsCertificates.Ca;
import dev.whack.node.testing.TlsCertificates.Issued;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TLS 1.2 client may not make a node running the JDK's TLS renegotiate: the JDK allows it by
 * default, and each renegotiation is a full handshake the node pays for on the client's say-so. The
 * node sets {@code jdk.tls.rejectClientInitiatedRenegotiation} at start unless the JVM was given
 * it, which the second case does to show that the client here does renegotiate when allowed. (With
 * OpenSSL, BoringSSL refuses renegotiation by itself.) Each node runs in a JVM of its own with
 * OpenSSL switched off, since the JDK reads the property once per JVM.
 */
class TlsRenegotiationTest {
  private static final String NO_OPENSSL = "-Dio.netty.handler.ssl.noOpenSsl=true";

  @TempDir Path dir;

  @Test
  void shouldRefuseARenegotiationTheClientStartsWhenTheJdkServesTls() throws Exception {
    Ca ca = TlsCertificates.ca("Renegotiation CA", dir);
    Issued server = ca.node("node");
    try (NodeProcess node =
            NodeProcess.startTls(server.certFile(), server.keyFile(), List.of(NO_OPENSSL));
        SSLSocket socket = tls12(ca, node.port())) {
      BufferedReader in = reader(socket);
      assertTrue(version(socket, in).startsWith("VERSION "));
      assertThrows(
          IOException.class,
          () -> {
            socket.startHandshake(); // on a TLS 1.2 connection: a renegotiation
            version(socket, in);
          });
    }
  }

  @Test
  void shouldLeaveTheJvmsOwnSettingAlone() throws Exception {
    Ca ca = TlsCertificates.ca("Renegotiation CA", dir);
    Issued server = ca.node("node");
    try (NodeProcess node =
            NodeProcess.startTls(
                server.certFile(),
                server.keyFile(),
                List.of(NO_OPENSSL, "-Djdk.tls.rejectClientInitiatedRenegotiation=false"));
        SSLSocket socket = tls12(ca, node.port())) {
      BufferedReader in = reader(socket);
      assertTrue(version(socket, in).startsWith("VERSION "));
      socket.startHandshake();
      assertTrue(version(socket, in).startsWith("VERSION "), "served after a renegotiation");
      assertEquals("TLSv1.2", socket.getSession().getProtocol());
    }
  }

  private static SSLSocket tls12(Ca ca, int port) throws IOException {
    SSLSocket socket =
        (SSLSocket) TlsCertificates.clientContext(ca, null).getSocketFactory().createSocket();
    socket.setEnabledProtocols(new String[] {"TLSv1.2"});
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(5000);
    socket.startHandshake();
    return socket;
  }

  private static BufferedReader reader(SSLSocket socket) throws IOException {
    return new BufferedReader(
        new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
  }

  private static String version(SSLSocket socket, BufferedReader in) throws IOException {
    socket.getOutputStream().write("version\r\n".getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    String line = in.readLine();
    if (line == null) {
      throw new IOException("closed by the node");
    }
    return line;
  }
}
