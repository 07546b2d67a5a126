package dev.whack.node.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made in the test, for TLS tests: a CA, and the certificates it signs for a node
 * ({@code 127.0.0.1} and {@code localhost}, usable as server and as client, as a cluster member's
 * must be) or a client. EC P-256 keys, written as the PEM files the node reads (certificate, and an
 * unencrypted PKCS#8 key), and JDK {@link SSLContext}s for clients that are not Whack's own.
 */
public final class TlsCertificates {
  private static final AtomicLong SERIALS = new AtomicLong(System.nanoTime());

  private TlsCertificates() {}

  /** A certificate with its key, and where both were written. */
  public record Issued(X509Certificate certificate, KeyPair keys, Path certFile, Path keyFile) {
    /** Writes this certificate and key over {@code certFile} and {@code keyFile} (by rename). */
    public void writeTo(Path certFile, Path keyFile) {
      replace(certFile, pem("CERTIFICATE", encoded(certificate)));
      replace(keyFile, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
    }
  }

  /** A certificate authority that signs the others. */
  public static final class Ca {
    private final String name;
    private final KeyPair keys;
    private final X509Certificate certificate;
    private final Path dir;
    private final Path file;

    private Ca(String name, Path dir) {
      this.name = name;
      this.dir = dir;
      this.keys = ecKeys();
      this.certificate = sign(name, keys, name, keys, true, List.of(), null, VALID);
      this.file = dir.resolve(slug(name) + "-ca.pem");
      replace(file, pem("CERTIFICATE", encoded(certificate)));
    }

    public X509Certificate certificate() {
      return certificate;
    }

    /** The CA's certificate, PEM. */
    public Path file() {
      return file;
    }

    /** A node's certificate: for 127.0.0.1 and localhost, server and client use. */
    public Issued node(String subject) {
      return issue(subject, List.of("127.0.0.1", "localhost"), true);
    }

    /** A client's certificate (client use only, no host names). */
    public Issued client(String subject) {
      return issue(subject, List.of(), false);
    }

    /** A node's certificate naming only {@code hosts} (not where a test reaches it). */
    public Issued nodeNaming(String subject, List<String> hosts) {
      return issue(subject, hosts, true);
    }

    /** A node's certificate for 127.0.0.1 and localhost that expired yesterday. */
    public Issued expiredNode(String subject) {
      return issue(subject, List.of("127.0.0.1", "localhost"), true, EXPIRED);
    }

    private Issued issue(String subject, List<String> hosts, boolean server) {
      return issue(subject, hosts, server, VALID);
    }

    private Issued issue(String subject, List<String> hosts, boolean server, Duration[] validity) {
      KeyPair subjectKeys = ecKeys();
      X509Certificate cert =
          sign(
              name,
              keys,
              subject,
              subjectKeys,
              false,
              hosts,
              server
                  ? new KeyPurposeId[] {
                    KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                  }
                  : new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth},
              validity);
      String base = slug(name) + "-" + slug(subject) + "-" + SERIALS.incrementAndGet();
      Path certFile = dir.resolve(base + ".pem");
      Path keyFile = dir.resolve(base + ".key");
      Issued issued = new Issued(cert, subjectKeys, certFile, keyFile);
      issued.writeTo(certFile, keyFile);
      return issued;
    }
  }

  /** A new CA whose files go in {@code dir}. */
  public static Ca ca(String name, Path dir) {
    return new Ca(name, dir);
  }

  /**
   * A JDK client context that trusts {@code trusted} (null: nothing, so every server is refused)
   * and presents {@code client} whenever a certificate is asked for (null: no certificate), even
   * when the server names other CAs as acceptable, where the JDK's own choice would send none: so a
   * test sees the server verify a stranger's certificate rather than the client withhold it.
   */
  public static SSLContext clientContext(Ca trusted, Issued client) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      if (trusted != null) {
        trust.setCertificateEntry("ca", trusted.certificate());
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyManagerFactory kmf = null;
      if (client != null) {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry(
            "client",
            client.keys().getPrivate(),
            new char[0],
            new X509Certificate[] {client.certificate()});
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(
          kmf == null
              ? null
              : new javax.net.ssl.KeyManager[] {
                new AlwaysPresent((javax.net.ssl.X509KeyManager) kmf.getKeyManagers()[0])
              },
          tmf.getTrustManagers(),
          null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Presents its one certificate whatever the server asks for. */
  private static final class AlwaysPresent extends javax.net.ssl.X509ExtendedKeyManager {
    private final javax.net.ssl.X509KeyManager keys;

    AlwaysPresent(javax.net.ssl.X509KeyManager keys) {
      this.keys = keys;
    }

    @Override
    public String chooseClientAlias(
        String[] keyType, java.security.Principal[] issuers, Socket socket) {
      return "client";
    }

    @Override
    public String chooseEngineClientAlias(
        String[] keyType, java.security.Principal[] issuers, javax.net.ssl.SSLEngine engine) {
      return "client";
    }

    @Override
    public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
      return new String[] {"client"};
    }

    @Override
    public String chooseServerAlias(
        String keyType, java.security.Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return keys.getCertificateChain(alias);
    }

    @Override
    public java.security.PrivateKey getPrivateKey(String alias) {
      return keys.getPrivateKey(alias);
    }
  }

  /**
   * A JDK TLS socket to {@code 127.0.0.1:port}, handshaken, with a read timeout; the handshake's
   * failure is thrown.
   */
  public static SSLSocket connect(SSLContext context, int port, Duration readTimeout)
      throws IOException {
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
    socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 2000);
    socket.setSoTimeout((int) readTimeout.toMillis());
    try {
      socket.startHandshake();
    } catch (IOException e) {
      closeQuietly(socket);
      throw e;
    }
    return socket;
  }

  /** The certificate a TLS socket's server presented. */
  public static X509Certificate serverCertificate(SSLSocket socket) {
    try {
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing a socket whose handshake failed
    }
  }

  private static KeyPair ecKeys() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** From five minutes ago to two days on. */
  private static final Duration[] VALID = {Duration.ofMinutes(-5), Duration.ofDays(2)};

  /** From ten days ago to yesterday. */
  private static final Duration[] EXPIRED = {Duration.ofDays(-10), Duration.ofDays(-1)};

  private static X509Certificate sign(
      String issuer,
      KeyPair issuerKeys,
      String subject,
      KeyPair subjectKeys,
      boolean ca,
      List<String> hosts,
      KeyPurposeId[] purposes,
      Duration[] validity) {
    try {
      Instant now = Instant.now();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              new X500Name("CN=" + issuer),
              BigInteger.valueOf(SERIALS.incrementAndGet()),
              Date.from(now.plus(validity[0])),
              Date.from(now.plus(validity[1])),
              new X500Name("CN=" + subject),
              subjectKeys.getPublic());
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
      builder.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          extensions.createSubjectKeyIdentifier(subjectKeys.getPublic()));
      builder.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          extensions.createAuthorityKeyIdentifier(issuerKeys.getPublic()));
      builder.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature));
      if (purposes != null) {
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
      }
      if (!hosts.isEmpty()) {
        List<GeneralName> names = new ArrayList<>();
        for (String host : hosts) {
          names.add(
              new GeneralName(
                  Character.isDigit(host.charAt(0)) ? GeneralName.iPAddress : GeneralName.dNSName,
                  host));
        }
        builder.addExtension(
            Extension.subjectAlternativeName,
            false,
            new GeneralNames(names.toArray(GeneralName[]::new)));
      }
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(
                  new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] encoded(X509Certificate certificate) {
    try {
      return certificate.getEncoded();
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  /** Writes beside the file and renames over it, as an operator's deploy would. */
  private static void replace(Path file, String text) {
    try {
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, text, StandardCharsets.US_ASCII);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String slug(String text) {
    return text.replaceAll("[^A-Za-z0-9]+", "-").toLowerCase(java.util.Locale.ROOT);
  }
}
