package dev.whack.client;

/**
 * A segment expression, query or filter was rejected: {@code CLIENT_ERROR bad expression at
 * position <p>: <reason>}, with the 0-based position in the expression.
 */
public final class BadExpressionException extends ServerErrorException {
  private final int position;
  private final String reason;

  public BadExpressionException(String node, String serverMessage, int position, String reason) {
    super(node, "CLIENT_ERROR", serverMessage);
    this.position = position;
    this.reason = reason;
  }

  /** Where in the expression the node found the error, as its reply gives it. */
  public int position() {
    return position;
  }

  /** Why the node refused the expression. */
  public String reason() {
    return reason;
  }
}
