package dev.whack.client;

/**
 * A reply that cannot be the answer to the request it is matched with. The connection is closed,
 * since nothing after it can be trusted, and every other request pending on it fails.
 */
public final class CorruptReplyException extends WhackException {
  public CorruptReplyException(String node, String message) {
    super(node, message);
  }
}
