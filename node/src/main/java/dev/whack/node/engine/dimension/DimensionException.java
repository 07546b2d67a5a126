package dev.whack.node.engine.dimension;

/** A dimension definition or drop that is refused; the message says why, for the client. */
public final class DimensionException extends RuntimeException {
  public DimensionException(String message) {
    super(message);
  }
}
