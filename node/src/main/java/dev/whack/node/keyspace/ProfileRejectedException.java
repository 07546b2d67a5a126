package dev.whack.node.keyspace;

import dev.whack.node.engine.EngineException;

/**
 * A profile or update the node refuses, with a one-line reason fit for {@code CLIENT_ERROR
 * <reason>}. Nothing stored changed.
 */
public final class ProfileRejectedException extends RuntimeException {
  private ProfileRejectedException(String message, Throwable cause) {
    super(message, cause);
  }

  ProfileRejectedException(String message) {
    super(message);
  }

  /** Wraps an engine or parse error as "{@code <what>: <reason>}" on one line. */
  static ProfileRejectedException of(String what, RuntimeException cause) {
    if (!(cause instanceof EngineException) && !(cause instanceof IllegalArgumentException)) {
      throw cause; // a bug, not bad input: let it surface
    }
    return new ProfileRejectedException(what + ": " + oneLine(cause.getMessage()), cause);
  }

  /** Protocol replies are single lines: control characters become spaces. */
  public static String oneLine(String message) {
    if (message == null) {
      return "rejected";
    }
    StringBuilder b = new StringBuilder(message.length());
    for (int i = 0; i < message.length(); i++) {
      char c = message.charAt(i);
      b.append(c < 0x20 || c == 0x7f ? ' ' : c);
    }
    return b.toString();
  }
}
