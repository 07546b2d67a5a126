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

  public int position() {
    return position;
  }

  public String reason() {
    return reason;
  }
}
