package dev.whack.client.transport;

import java.nio.charset.StandardCharsets;

/**
 * The user and password every connection authenticates with before its first request
 * (docs/security.md): memcached's {@code set}-form authentication on a text connection, SASL PLAIN
 * on a binary one.
 *
 * <p>Concurrency: immutable; the password's bytes are never handed out to be changed.
 */
public final class Credentials {
  private final String user;
  private final byte[] password;

  /**
   * @throws IllegalArgumentException when the user is empty or holds a space, a NUL or a line end
   *     (neither protocol could carry it), or the password holds a NUL or a line end
   */
  public Credentials(String user, String password) {
    if (user == null || user.isEmpty()) {
      throw new IllegalArgumentException("the user name is empty");
    }
    if (password == null) {
      throw new IllegalArgumentException("no password given for " + user);
    }
    for (int i = 0; i < user.length(); i++) {
      char c = user.charAt(i);
      if (c == ' ' || c == '\0' || c == '\r' || c == '\n' || c == ':') {
        throw new IllegalArgumentException(
            "a user name cannot hold a space, a colon, a NUL or a line end: " + user);
      }
    }
    if (password.indexOf('\0') >= 0 || password.indexOf('\r') >= 0 || password.indexOf('\n') >= 0) {
      throw new IllegalArgumentException("a password cannot hold a NUL or a line end");
    }
    this.user = user;
    this.password = password.getBytes(StandardCharsets.UTF_8);
  }

  public String user() {
    return user;
  }

  /** The password's UTF-8 bytes, copied. */
  public byte[] password() {
    return password.clone();
  }

  @Override
  public String toString() {
    return "Credentials[" + user + "]"; // never the password
  }
}
