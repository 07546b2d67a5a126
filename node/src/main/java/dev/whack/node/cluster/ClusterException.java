package dev.whack.node.cluster;

import dev.whack.client.NodeUnavailableException;
import dev.whack.node.keyspace.ProfileRejectedException;
import java.util.concurrent.CompletionException;

/**
 * Why a cluster-wide answer could not be given, for each front end to say in its own terms: a
 * question the cluster refused (a bad expression, an unknown segment, a bad cursor; memcached's
 * {@code CLIENT_ERROR}, binary status {@code 0x04}), or a member that could not answer (down, or it
 * answered with an error of its own; {@code SERVER_ERROR}, binary {@code 0x86}). The message is one
 * line.
 */
public final class ClusterException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final boolean refused;

  private ClusterException(boolean refused, String message) {
    super(ProfileRejectedException.oneLine(message), null, false, false);
    this.refused = refused;
  }

  /** The question itself was refused: asking again as it is gets the same answer. */
  public static ClusterException refused(String reason) {
    return new ClusterException(true, reason);
  }

  /** A member could not give its part. */
  public static ClusterException failed(String reason) {
    return new ClusterException(false, reason);
  }

  /** A member that could not be reached, named with the reason ("... is down"). */
  public static ClusterException unreachable(String member, Throwable error) {
    return failed(unreachableReason(member, error));
  }

  /** True for a refused question, false for a member that could not answer. */
  public boolean refused() {
    return refused;
  }

  /**
   * The ClusterException behind a failed future's error, or null if the failure is of another kind
   * (a bug).
   */
  public static ClusterException of(Throwable error) {
    Throwable cause = unwrap(error);
    return cause instanceof ClusterException e ? e : null;
  }

  /** "{@code <member> is down}", or why asking it failed. */
  public static String unreachableReason(String member, Throwable error) {
    Throwable cause = unwrap(error);
    return cause instanceof NodeUnavailableException
        ? member + " is down"
        : "forwarding to " + member + " failed: " + cause.getMessage();
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof CompletionException && error.getCause() != null
        ? error.getCause()
        : error;
  }
}
