package dev.whack.node.keyspace;

import dev.whack.node.engine.EngineException;

/**
 * A profile or update the node refuses, with a one-line reason fit for {@code CLIENT_ERROR
 * <reason>}. Nothing stored changed.
 */
public final class ProfileRejectedException extends RuntimeException {
  private final boolean notProfile;

  private ProfileRejectedException(String message, Throwable cause) {
    super(message, cause);
    this.notProfile = false;
  }

  ProfileRejectedException(String message) {
    this(message, false);
  }

  private ProfileRejectedException(String message, boolean notProfile) {
    super(message);
    this.notProfile = notProfile;
  }

  /** The key holds an opaque value, which an update cannot change ("not a profile: " and why). */
  static ProfileRejectedException notAProfile(String reason) {
    return new ProfileRejectedException("not a profile: " + oneLine(reason), true);
  }

  /**
   * True when the key holds an opaque value rather than the update or profile being bad: the state,
   * not the request, is what refuses it (gRPC's FAILED_PRECONDITION).
   */
  public boolean notProfile() {
    return notProfile;
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
