package dev.whack.client;

/**
 * A node refused the client's credentials ({@code WhackClient.Builder.credentials}): the user is
 * not in its auth file, or the password is not theirs. The connection is not made, so the node is
 * marked down with this as the reason ({@code "127.0.0.1:11211 is down: authentication failed for
 * alice"}) and probed again with backoff, as after any failed connect.
 */
public final class AuthenticationException extends WhackException {
  private final String user;

  public AuthenticationException(String node, String user, String detail) {
    super(
        node,
        "authentication failed for " + user + (detail == null ? "" : " (" + detail + ")"),
        null);
    this.user = user;
  }

  /** The user whose credentials were refused. */
  public String user() {
    return user;
  }
}
