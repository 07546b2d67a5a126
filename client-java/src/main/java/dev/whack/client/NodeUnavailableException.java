package dev.whack.client;

import java.util.List;

/**
 * A node is down (it refused a connection or did not answer in time), so a call that needs it fails
 * at once instead of waiting. Scatter-gather calls name every node that was missing.
 */
public final class NodeUnavailableException extends WhackException {
  private final List<String> nodes;

  public NodeUnavailableException(List<String> nodes, String message, Throwable cause) {
    super(nodes.size() == 1 ? nodes.get(0) : null, message, cause);
    this.nodes = List.copyOf(nodes);
  }

  /** {@code "<node> is down"}, with the reason when one is known. */
  public static NodeUnavailableException down(String node, Throwable cause) {
    String reason = cause == null ? null : cause.getMessage();
    return new NodeUnavailableException(
        List.of(node), node + " is down" + (reason == null ? "" : ": " + reason), cause);
  }

  /** Every node the call needed and could not reach. */
  public List<String> nodes() {
    return nodes;
  }
}
