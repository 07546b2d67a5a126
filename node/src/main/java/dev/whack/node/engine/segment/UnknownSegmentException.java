package dev.whack.node.engine.segment;

import dev.whack.node.engine.EngineException;

/**
 * A query or lookup named a segment that is not defined. Message: {@code unknown segment <name>}.
 */
public final class UnknownSegmentException extends EngineException {
  private final String name;

  public UnknownSegmentException(String name) {
    super("unknown segment " + name);
    this.name = name;
  }

  public String name() {
    return name;
  }
}
