package dev.whack.node.protocol.ascii;

import static dev.whack.node.protocol.ascii.AsciiCommands.ascii;

import dev.whack.node.cluster.UpdatesLog.Applied;
import java.util.concurrent.CompletionException;

/**
 * The text protocol's replies to profile writes that went through a Kafka-managed cluster's updates
 * log (docs/cluster.md, "Writes through the log"): what a local write of the same kind answers,
 * from what the apply did, or a server error when the log refused the write or it was not applied
 * in time.
 */
final class LoggedReplies {
  /** Conditional and meta writes of a profile: the log applies writes whatever the state then. */
  static final byte[] SET_UPDATE_OR_DELETE =
      ascii(
          "SERVER_ERROR in a Kafka-managed cluster a profile is written only by set, update and"
              + " delete (they go through the updates topic)\r\n");

  private static final byte[] UPDATED = ascii("UPDATED\r\n");
  private static final byte[] IGNORED = ascii("IGNORED\r\n");

  private LoggedReplies() {}

  /** A set: STORED, or why not. */
  static byte[] store(Applied applied, Throwable failure) {
    if (failure != null || applied.rejected() != null) {
      return refused(applied, failure);
    }
    return switch (applied.status()) {
      case STORED, IGNORED -> AsciiCommands.STORED;
      case TOO_LARGE -> AsciiCommands.TOO_LARGE;
      default -> serverError("not stored: " + applied.status());
    };
  }

  /** A delete: DELETED or NOT_FOUND, or why not. */
  static byte[] delete(Applied applied, Throwable failure) {
    if (failure != null || applied.rejected() != null) {
      return refused(applied, failure);
    }
    return switch (applied.status()) {
      case DELETED -> AsciiCommands.DELETED;
      case NOT_FOUND, IGNORED -> AsciiCommands.NOT_FOUND;
      default -> serverError("not deleted: " + applied.status());
    };
  }

  /** An update: UPDATED or IGNORED, or why not. */
  static byte[] update(Applied applied, Throwable failure) {
    if (failure != null || applied.rejected() != null) {
      return refused(applied, failure);
    }
    return switch (applied.status()) {
      case STORED -> UPDATED;
      case IGNORED -> IGNORED;
      case TOO_LARGE -> AsciiCommands.TOO_LARGE;
      default -> serverError("not updated: " + applied.status());
    };
  }

  private static byte[] refused(Applied applied, Throwable failure) {
    if (failure == null) {
      return ascii("CLIENT_ERROR " + oneLine(applied.rejected()) + "\r\n");
    }
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    return serverError(cause.getMessage() == null ? cause.toString() : cause.getMessage());
  }

  private static byte[] serverError(String message) {
    return ascii("SERVER_ERROR " + oneLine(message) + "\r\n");
  }

  private static String oneLine(String s) {
    return s.replace('\r', ' ').replace('\n', ' ');
  }
}
