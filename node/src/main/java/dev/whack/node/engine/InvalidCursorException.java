package dev.whack.node.engine;

/** A paging cursor that this engine did not hand out. Message: {@code bad cursor}. */
public final class InvalidCursorException extends EngineException {
  public InvalidCursorException() {
    super("bad cursor");
  }
}
