package dev.whack.client;

/**
 * The root of every exception the client raises. Unchecked: the async API completes futures with
 * it, the blocking facade throws it unwrapped.
 */
public class WhackException extends RuntimeException {
  private final String node;

  public WhackException(String node, String message, Throwable cause) {
    super(message, cause);
    this.node = node;
  }

  public WhackException(String node, String message) {
    this(node, message, null);
  }

  /** The node ({@code host:port}) the failure concerns, or null when it concerns no single node. */
  public String node() {
    return node;
  }
}
