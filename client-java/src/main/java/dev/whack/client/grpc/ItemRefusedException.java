package dev.whack.client.grpc;

import dev.whack.client.ServerErrorException;

/**
 * The node refused one item of an {@code Ingest} stream (docs/grpc.md): an {@code errors} entry
 * with the item's id, a gRPC status code name ({@code INVALID_ARGUMENT}, {@code
 * RESOURCE_EXHAUSTED}, {@code FAILED_PRECONDITION}...) and the reason. Nothing of the item was
 * applied, and the stream goes on.
 *
 * <p>A {@link ServerErrorException} whose {@link #kind()} is the code name, so that code handling a
 * refused write of either port handles this one too.
 */
public final class ItemRefusedException extends ServerErrorException {
  private final long id;

  public ItemRefusedException(String node, long id, String code, String message) {
    super(node, code, message);
    this.id = id;
  }

  /** The id the writer gave the item on its stream. */
  public long id() {
    return id;
  }

  /** The gRPC status code name the node gave, e.g. {@code INVALID_ARGUMENT}. */
  public String code() {
    return kind();
  }
}
