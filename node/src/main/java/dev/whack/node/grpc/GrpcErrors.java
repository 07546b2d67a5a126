package dev.whack.node.grpc;

import dev.whack.node.cluster.ClusterException;
import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.segment.UnknownSegmentException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletionException;

/**
 * Why a call failed, as the gRPC status a person can act on (docs/grpc.md, "Errors"): a question
 * refused for an unknown segment NOT_FOUND, any other refused question (a bad expression, with its
 * position; a bad name or cursor) INVALID_ARGUMENT, a member that could not answer UNAVAILABLE
 * naming it, anything else INTERNAL.
 */
final class GrpcErrors {
  /** How a refusal for an unknown segment begins, from this node's engine or a member's reply. */
  private static final String UNKNOWN_SEGMENT = "unknown segment ";

  private GrpcErrors() {}

  /** What failed a future: the cause a CompletionException wraps, else the failure itself. */
  static Throwable cause(Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause()
        : failure;
  }

  static StatusRuntimeException statusOf(Throwable failure) {
    Throwable cause = cause(failure);
    if (cause instanceof StatusRuntimeException e) {
      return e;
    }
    if (cause instanceof UnknownSegmentException) {
      return Status.NOT_FOUND.withDescription(cause.getMessage()).asRuntimeException();
    }
    if (cause instanceof EngineException || cause instanceof IllegalArgumentException) {
      return Status.INVALID_ARGUMENT.withDescription(cause.getMessage()).asRuntimeException();
    }
    ClusterException cluster = ClusterException.of(cause);
    if (cluster != null) {
      Status status =
          !cluster.refused()
              ? Status.UNAVAILABLE
              : cluster.getMessage().startsWith(UNKNOWN_SEGMENT)
                  ? Status.NOT_FOUND
                  : Status.INVALID_ARGUMENT;
      return status.withDescription(cluster.getMessage()).asRuntimeException();
    }
    return Status.INTERNAL
        .withDescription(String.valueOf(cause))
        .withCause(cause)
        .asRuntimeException();
  }
}
