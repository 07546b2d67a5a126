package dev.whack.node.tls;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.NodeUnavailableException;
import dev.whack.client.WhackClient;
import dev.whack.client.tls.ClientTls;
import dev.whack.node.config.TlsOptions;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.TlsCertificates;
import dev.whack.node.testing.TlsCertificates.Ca;
import dev.whack.node.testing.TlsCertificates.Issued;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS against clients that misbehave or are misdirected (found in a review of the TLS code). */
class TlsAbuseTest {
  @TempDir Path dir;

  @Test
  void javaClientShouldRefuseANodeWhoseCertificateDoesNotNameTheHost() throws Exception {
    Ca ca = TlsCertificates.ca("Review CA", dir);
    Issued elsewhere = ca.nodeNaming("elsewhere", List.of("10.9.9.9", "elsewhere.example"));
    try (EmbeddedNode n =
            EmbeddedNode.start(
                c -> c.tls(new TlsOptions(elsewhere.certFile(), elsewhere.keyFile(), null, null)));
        WhackClient c =
            WhackClient.builder()
                .servers(n.address())
                .tls(ClientTls.builder().trustCa(ca.file()).build())
                .build()) {
      ExecutionException failed = assertThrows(ExecutionException.class, () -> c.get("k").get());
      assertTrue(failed.getCause() instanceof NodeUnavailableException, failed.toString());
      assertTrue(
          failed.getCause().getMessage().contains("TLS handshake failed"),
          failed.getCause().getMessage());
    }
  }

  @Test
  void shouldClosePromptlyAConnectionPastTheLimitThatNeverHandshakes() throws Exception {
    Ca ca = TlsCertificates.ca("Review CA", dir);
    Issued node = ca.node("node");
    try (EmbeddedNode n =
            EmbeddedNode.start(
                c ->
                    c.maxConnections(1)
                        .tls(new TlsOptions(node.certFile(), node.keyFile(), null, null)));
        Socket holder = new Socket();
        Socket extra = new Socket()) {
      holder.connect(new InetSocketAddress("127.0.0.1", n.port()));
      Thread.sleep(200);
      extra.connect(new InetSocketAddress("127.0.0.1", n.port()));
      extra.setSoTimeout(15_000);
      long start = System.nanoTime();
      InputStream in = extra.getInputStream();
      try {
        while (in.read() >= 0) {
          // whatever comes before the close
        }
      } catch (java.io.IOException reset) {
        // a reset ends it too
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(millis < 3_000, "a connection past the limit stayed open " + millis + " ms");
    }
  }
}
