package dev.whack.node.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.WhackNode;
import dev.whack.node.config.NodeConfig;
import dev.whack.node.config.TlsOptions;
import dev.whack.node.config.TlsOptions.ClientAuth;
import dev.whack.node.testing.TlsCertificates;
import dev.whack.node.testing.TlsCertificates.Ca;
import dev.whack.node.testing.TlsCertificates.Issued;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The --tls-* flags' rules, and a node that refuses to start on files it cannot use. */
class TlsOptionsTest {
  @TempDir Path dir;

  @Test
  void noFlagsMeanPlaintext() {
    assertNull(TlsOptions.of(null, null, null, null));
  }

  @Test
  void shouldRefuseACaOrAModeWithoutACertificate() {
    assertThrows(
        IllegalArgumentException.class, () -> TlsOptions.of(null, null, dir.resolve("ca"), null));
    assertThrows(IllegalArgumentException.class, () -> TlsOptions.of(null, null, null, "none"));
    assertThrows(
        IllegalArgumentException.class, () -> TlsOptions.of(dir.resolve("c"), null, null, null));
  }

  @Test
  void shouldDefaultToRequireWithACaAndNoneWithout() {
    assertEquals(
        ClientAuth.REQUIRE,
        TlsOptions.of(dir.resolve("c"), dir.resolve("k"), dir.resolve("ca"), null).clientAuth());
    assertEquals(
        ClientAuth.NONE,
        TlsOptions.of(dir.resolve("c"), dir.resolve("k"), null, null).clientAuth());
  }

  @Test
  void shouldRefuseClientCertificatesWithoutACaToVerifyThem() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TlsOptions.of(dir.resolve("c"), dir.resolve("k"), null, "require"));
    assertTrue(e.getMessage().contains("needs --tls-ca"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> TlsOptions.of(dir.resolve("c"), dir.resolve("k"), dir.resolve("ca"), "sometimes"));
  }

  @Test
  void aNodeShouldNotStartWithAKeyThatIsNotItsCertificates() {
    Ca ca = TlsCertificates.ca("Start CA", dir);
    Issued one = ca.node("one");
    Issued two = ca.node("two");
    UncheckedIOException e =
        assertThrows(
            UncheckedIOException.class,
            () ->
                WhackNode.start(
                    new NodeConfig()
                        .port(0)
                        .metricsPort(0)
                        .tls(new TlsOptions(one.certFile(), two.keyFile(), null, null))));
    assertTrue(e.getMessage().contains("does not belong to the certificate"), e.getMessage());
  }

  @Test
  void aNodeShouldNotStartWithAnOldStyleKeyAndShouldSayHowToConvertIt() throws Exception {
    Ca ca = TlsCertificates.ca("Start CA", dir);
    Issued one = ca.node("one");
    Path rsa = dir.resolve("old.key");
    Files.writeString(rsa, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
    UncheckedIOException e =
        assertThrows(
            UncheckedIOException.class,
            () ->
                WhackNode.start(
                    new NodeConfig()
                        .port(0)
                        .metricsPort(0)
                        .tls(new TlsOptions(one.certFile(), rsa, null, null))));
    assertTrue(e.getMessage().contains("openssl pkcs8 -topk8 -nocrypt"), e.getMessage());
  }

  @Test
  void aNodeShouldNotStartWithAnExpiredCertificate() {
    Ca ca = TlsCertificates.ca("Start CA", dir);
    Issued expired = ca.expiredNode("expired");
    UncheckedIOException e =
        assertThrows(
            UncheckedIOException.class,
            () ->
                WhackNode.start(
                    new NodeConfig()
                        .port(0)
                        .metricsPort(0)
                        .tls(new TlsOptions(expired.certFile(), expired.keyFile(), null, null))));
    assertTrue(e.getMessage().contains("the certificate expired on"), e.getMessage());
  }
}
