package dev.whack.node.security;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * A salted password hash as the auth file holds it: {@code
 * pbkdf2-sha256$<iterations>$<salt>$<hash>} (salt and hash in unpadded base64), PBKDF2 with
 * HMAC-SHA256 from the JDK. No plaintext password is ever kept.
 *
 * <p>The default of 600,000 iterations is OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256; one
 * check then costs about a third of a second of one core, so {@link Authenticator} runs checks off
 * the event loops and remembers a password it has verified (a SHA-256 of salt and password, never
 * the password) so that a client's next connection is checked in a microsecond.
 *
 * <p>Concurrency: immutable.
 */
public final class PasswordHash {
  public static final String SCHEME = "pbkdf2-sha256";
  public static final int DEFAULT_ITERATIONS = 600_000;

  /** Fewer iterations than this are refused: a hash that cheap is not worth keeping. */
  public static final int MIN_ITERATIONS = 1_000;

  /** More are refused too: one check would hold the auth thread for minutes. */
  public static final int MAX_ITERATIONS = 10_000_000;

  private static final int SALT_BYTES = 16;
  private static final int HASH_BYTES = 32;
  private static final String ALGORITHM = "PBKDF2WithHmacSHA256";

  private final int iterations;
  private final byte[] salt;
  private final byte[] hash;

  private PasswordHash(int iterations, byte[] salt, byte[] hash) {
    this.iterations = iterations;
    this.salt = salt;
    this.hash = hash;
  }

  /** Hashes {@code password} with a new random salt. */
  public static PasswordHash of(char[] password, int iterations) {
    if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
      throw new IllegalArgumentException(
          "iterations must be from "
              + MIN_ITERATIONS
              + " to "
              + MAX_ITERATIONS
              + ": "
              + iterations);
    }
    byte[] salt = new byte[SALT_BYTES];
    new SecureRandom().nextBytes(salt);
    return new PasswordHash(iterations, salt, derive(password, salt, iterations, HASH_BYTES));
  }

  /**
   * A hash of a random password that costs what checking a password against {@code like} costs: the
   * same iterations and hash length (PBKDF2 runs its iterations once per 32 bytes of output), for
   * {@link Authenticator}'s checks of user names that do not exist.
   */
  static PasswordHash standInFor(PasswordHash like) {
    byte[] salt = new byte[like.salt.length];
    byte[] password = new byte[16];
    SecureRandom random = new SecureRandom();
    random.nextBytes(salt);
    random.nextBytes(password);
    char[] chars = java.util.HexFormat.of().formatHex(password).toCharArray();
    try {
      return new PasswordHash(
          like.iterations, salt, derive(chars, salt, like.iterations, like.hash.length));
    } finally {
      java.util.Arrays.fill(chars, '\0');
    }
  }

  /** Whether checking a password against this hash costs what it costs against {@code other}. */
  boolean sameCost(PasswordHash other) {
    return iterations == other.iterations && hash.length == other.hash.length;
  }

  /**
   * Reads the file's form of a hash.
   *
   * @throws IllegalArgumentException saying what is wrong with it
   */
  public static PasswordHash parse(String text) {
    String[] parts = text.split("\\$", -1);
    if (parts.length != 4 || !parts[0].equals(SCHEME)) {
      throw new IllegalArgumentException(
          "a password hash is "
              + SCHEME
              + "$<iterations>$<salt>$<hash> (make one with whack auth hash)");
    }
    int iterations;
    try {
      iterations = Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("the hash's iterations are not a number: " + parts[1], e);
    }
    if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
      throw new IllegalArgumentException(
          "the hash's iterations must be from " + MIN_ITERATIONS + " to " + MAX_ITERATIONS);
    }
    byte[] salt;
    byte[] hash;
    try {
      salt = Base64.getDecoder().decode(parts[2]);
      hash = Base64.getDecoder().decode(parts[3]);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the hash's salt or hash is not base64", e);
    }
    if (salt.length < 8 || hash.length < 16) {
      throw new IllegalArgumentException("the hash's salt or hash is too short");
    }
    return new PasswordHash(iterations, salt, hash);
  }

  /** Whether {@code password} is the one hashed: a full PBKDF2, compared in constant time. */
  public boolean matches(char[] password) {
    return MessageDigest.isEqual(hash, derive(password, salt, iterations, hash.length));
  }

  /**
   * A fast fingerprint of {@code password} under this hash's salt, to remember a password already
   * verified: SHA-256 of salt and UTF-8 password.
   */
  byte[] fingerprint(byte[] passwordUtf8) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(salt);
      sha.update(passwordUtf8);
      return sha.digest();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  public int iterations() {
    return iterations;
  }

  /** The file's form. */
  @Override
  public String toString() {
    Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
    return SCHEME
        + "$"
        + iterations
        + "$"
        + b64.encodeToString(salt)
        + "$"
        + b64.encodeToString(hash);
  }

  private static byte[] derive(char[] password, byte[] salt, int iterations, int bytes) {
    PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, bytes * 8);
    try {
      return SecretKeyFactory.getInstance(ALGORITHM).generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no " + ALGORITHM, e);
    } finally {
      spec.clearPassword();
    }
  }

  /** The UTF-8 password as the chars PBKDF2 takes (the JDK encodes them back to UTF-8). */
  static char[] chars(byte[] utf8) {
    return new String(utf8, StandardCharsets.UTF_8).toCharArray();
  }
}
