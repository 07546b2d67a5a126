package dev.whack.node.tls;

import dev.whack.client.tls.Pem;
import dev.whack.node.config.TlsOptions;
import java.io.IOException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * What the node's TLS files held when they were read: its key and certificate chain (checked to
 * belong together) and the CA certificates, or null when no CA file is given.
 */
public record TlsMaterial(
    PrivateKey key,
    X509Certificate[] chain,
    X509Certificate[] ca,
    TlsOptions.ClientAuth clientAuth) {

  /** Reads and checks the files; the message of a failure names the file and what is wrong. */
  public static TlsMaterial read(TlsOptions options) throws IOException {
    X509Certificate[] chain = Pem.certificates(options.certificate());
    PrivateKey key = Pem.privateKey(options.key());
    Pem.checkPair(key, chain[0], options.key(), options.certificate());
    try {
      // An expired certificate would fail every handshake: refused at start, and a reload keeps
      // the one in use.
      chain[0].checkValidity();
    } catch (java.security.cert.CertificateExpiredException e) {
      throw new IOException(
          options.certificate() + ": the certificate expired on " + chain[0].getNotAfter(), e);
    } catch (java.security.cert.CertificateNotYetValidException e) {
      throw new IOException(
          options.certificate()
              + ": the certificate is not valid before "
              + chain[0].getNotBefore(),
          e);
    }
    X509Certificate[] ca = options.ca() == null ? null : Pem.certificates(options.ca());
    return new TlsMaterial(key, chain, ca, options.clientAuth());
  }

  /** The node certificate's subject and expiry, for the log. */
  public String describe() {
    X509Certificate leaf = chain[0];
    return leaf.getSubjectX500Principal().getName() + ", valid until " + leaf.getNotAfter();
  }
}
