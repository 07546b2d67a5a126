package dev.whack.node.engine.profile;

import dev.whack.node.engine.EngineException;

/**
 * A profile or update whose content is well formed but not acceptable: a bad attribute name, a
 * value without a kind, a non-finite float, a timestamp out of range, or a type clash such as
 * incrementing a string. The profile is left exactly as it was.
 */
public final class InvalidProfileException extends EngineException {
  public InvalidProfileException(String message) {
    super(message);
  }
}
