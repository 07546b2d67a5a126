package dev.whack.node.engine.expr;

import dev.whack.node.engine.EngineException;

/** A rejected segment or filter expression: where (0-based character offset) and why. */
public final class ExpressionException extends EngineException {
  private final int position;
  private final String reason;

  public ExpressionException(int position, String reason) {
    super("bad expression at position " + position + ": " + reason);
    this.position = position;
    this.reason = reason;
  }

  /** 0-based character offset of the offending token in the expression. */
  public int position() {
    return position;
  }

  public String reason() {
    return reason;
  }
}
