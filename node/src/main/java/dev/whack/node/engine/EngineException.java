package dev.whack.node.engine;

/**
 * Base of every error the profile and segment engine reports on purpose. Each subclass says what
 * was wrong in terms a client can act on; nothing stored is changed when one is thrown.
 */
public abstract class EngineException extends RuntimeException {
  protected EngineException(String message) {
    super(message);
  }
}
