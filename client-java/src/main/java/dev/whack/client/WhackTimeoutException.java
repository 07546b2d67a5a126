package dev.whack.client;

/** No reply within the request timeout. The connection it was sent on is closed and replaced. */
public final class WhackTimeoutException extends WhackException {
  public WhackTimeoutException(String node, String message) {
    super(node, message);
  }
}
