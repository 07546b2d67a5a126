package dev.whack.node.engine.segment;

import dev.whack.node.engine.EngineException;

/** A segment operation refused: unknown or duplicate name, invalid name, too many segments. */
public final class SegmentException extends EngineException {
  public SegmentException(String message) {
    super(message);
  }
}
