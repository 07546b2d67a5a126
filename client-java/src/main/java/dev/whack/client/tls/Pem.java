package dev.whack.client.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Certificates and private keys read from PEM files, the form {@code openssl} writes: certificates
 * as {@code -----BEGIN CERTIFICATE-----} blocks (a chain is several, the leaf first), a key as one
 * unencrypted PKCS#8 {@code -----BEGIN PRIVATE KEY-----} block (what {@code openssl genpkey} and
 * OpenSSL 3's {@code req -newkey} write). Every failure is an {@link IOException} whose message
 * names the file and what is wrong with it, since an operator reads it in a log.
 */
public final class Pem {
  private static final String KEY_BEGIN = "-----BEGIN PRIVATE KEY-----";
  private static final String KEY_END = "-----END PRIVATE KEY-----";

  /** Key algorithms tried in turn: a PKCS#8 block names its own, and only one of them parses. */
  private static final String[] KEY_ALGORITHMS = {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"};

  private Pem() {}

  /** The certificates in {@code file}, in file order; at least one. */
  public static X509Certificate[] certificates(Path file) throws IOException {
    byte[] bytes = read(file, "certificate");
    List<X509Certificate> certificates = new ArrayList<>();
    try {
      for (Certificate c :
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(bytes))) {
        certificates.add((X509Certificate) c);
      }
    } catch (CertificateException e) {
      throw new IOException(file + " is not a PEM certificate file: " + e.getMessage(), e);
    }
    if (certificates.isEmpty()) {
      throw new IOException(file + " holds no certificate (-----BEGIN CERTIFICATE-----)");
    }
    return certificates.toArray(X509Certificate[]::new);
  }

  /** The unencrypted PKCS#8 private key in {@code file}. */
  public static PrivateKey privateKey(Path file) throws IOException {
    String text = new String(read(file, "key"), StandardCharsets.US_ASCII);
    int begin = text.indexOf(KEY_BEGIN);
    int end = text.indexOf(KEY_END);
    if (begin < 0 || end < begin) {
      String hint =
          text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
              ? "the key is encrypted; write it unencrypted (openssl pkcs8 -topk8 -nocrypt -in"
                  + " KEY -out KEY.pk8) and keep the file readable by the node only"
              : text.contains("-----BEGIN RSA PRIVATE KEY-----")
                      || text.contains("-----BEGIN EC PRIVATE KEY-----")
                  ? "the key is in the older PKCS#1/SEC1 form; convert it with openssl pkcs8 -topk8"
                      + " -nocrypt -in KEY -out KEY.pk8"
                  : "no " + KEY_BEGIN + " block";
      throw new IOException(file + " is not a PKCS#8 PEM private key: " + hint);
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(text.substring(begin + KEY_BEGIN.length(), end).strip());
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": the private key block is not base64: " + e.getMessage(), e);
    }
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : KEY_ALGORITHMS) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        // not this algorithm (or not supported here): try the next
      }
    }
    throw new IOException(file + ": a private key of an unknown or unsupported algorithm");
  }

  /**
   * Checks that {@code key} is the private half of {@code certificate}'s public key, by signing a
   * few bytes and verifying them: a node given a new certificate with its old key (or a reload
   * between the two files' replacements) would otherwise fail every handshake, not its start.
   */
  public static void checkPair(
      PrivateKey key, X509Certificate certificate, Path keyFile, Path certificateFile)
      throws IOException {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
          default -> null; // no cheap check for it: the first handshake tells
        };
    if (algorithm == null) {
      return;
    }
    byte[] probe = "whack key check".getBytes(StandardCharsets.US_ASCII);
    boolean matches;
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      matches = verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      matches = false;
    }
    if (!matches) {
      throw new IOException(
          "the private key in "
              + keyFile
              + " does not belong to the certificate in "
              + certificateFile
              + " ("
              + certificate.getSubjectX500Principal().getName()
              + ")");
    }
  }

  private static byte[] read(Path file, String what) throws IOException {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new IOException("no " + what + " file " + file, e);
    } catch (IOException e) {
      throw new IOException("cannot read the " + what + " file " + file + ": " + e, e);
    }
  }
}
