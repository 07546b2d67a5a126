package dev.whack.node.engine.dimension;

import dev.whack.node.engine.EngineException;

/**
 * A dimension definition or drop that is refused; the message says why, for the client. An {@link
 * EngineException}, so every front end and the cluster's fan-out answer it as the refusal it is
 * ({@code CLIENT_ERROR}, gRPC {@code INVALID_ARGUMENT}), as they answer a refused segment.
 */
public final class DimensionException extends EngineException {
  public DimensionException(String message) {
    super(message);
  }
}
