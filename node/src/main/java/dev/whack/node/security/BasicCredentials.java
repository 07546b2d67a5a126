package dev.whack.node.security;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * A user name and password as HTTP Basic sends them (RFC 7617): {@code Basic
 * base64(user:password)}, the form of the HTTP port's {@code Authorization} header and of the gRPC
 * port's {@code authorization} metadata. The user is everything before the first colon (RFC 7617
 * forbids a colon in it), the password everything after, both UTF-8.
 *
 * @param password the password's UTF-8 bytes, as {@link Authenticator#check(String, byte[])} takes
 *     them
 */
public record BasicCredentials(String user, byte[] password) {
  private static final String SCHEME = "Basic";

  /**
   * The credentials of an {@code Authorization} value, or null when it is not Basic credentials
   * (another scheme, bad base64, no colon): a client that sent such a value is told it is not
   * authenticated, exactly as one that sent none.
   */
  public static BasicCredentials parse(String authorization) {
    if (authorization == null
        || authorization.length() <= SCHEME.length()
        || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
        || authorization.charAt(SCHEME.length()) != ' ') {
      return null;
    }
    byte[] decoded;
    try {
      decoded = Base64.getDecoder().decode(authorization.substring(SCHEME.length() + 1).strip());
    } catch (IllegalArgumentException e) {
      return null;
    }
    for (int i = 0; i < decoded.length; i++) {
      if (decoded[i] == ':') {
        String user = new String(decoded, 0, i, StandardCharsets.UTF_8);
        byte[] password = Arrays.copyOfRange(decoded, i + 1, decoded.length);
        Arrays.fill(decoded, (byte) 0);
        return user.isEmpty() ? null : new BasicCredentials(user, password);
      }
    }
    return null;
  }

  /** The {@code Authorization} value a client sends for {@code user} and {@code password}. */
  public static String header(String user, String password) {
    return SCHEME
        + " "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }
}
