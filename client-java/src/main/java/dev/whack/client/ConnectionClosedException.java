package dev.whack.client;

/**
 * The connection a request was sent on closed before its reply arrived: the node went away, an
 * earlier request on the same connection timed out or got a corrupt reply, or the client was
 * closed. The request may or may not have been applied.
 */
public final class ConnectionClosedException extends WhackException {
  public ConnectionClosedException(String node, String message, Throwable cause) {
    super(node, message, cause);
  }
}
