package dev.whack.client;

/**
 * The node answered with an error: {@code ERROR}, {@code CLIENT_ERROR <message>} or {@code
 * SERVER_ERROR <message>}, or over gRPC an item refused with a status code name ({@link
 * dev.whack.client.grpc.ItemRefusedException}). The connection stays usable.
 */
public class ServerErrorException extends WhackException {
  private final String kind;
  private final String serverMessage;

  public ServerErrorException(String node, String kind, String serverMessage) {
    super(
        node,
        (serverMessage.isEmpty() ? kind : kind + " " + serverMessage)
            + (node == null ? "" : " (from " + node + ")"));
    this.kind = kind;
    this.serverMessage = serverMessage;
  }

  /**
   * {@code ERROR}, {@code CLIENT_ERROR} or {@code SERVER_ERROR}; for an item refused over gRPC, the
   * status code name ({@code INVALID_ARGUMENT}...).
   */
  public String kind() {
    return kind;
  }

  /** The text after the kind, e.g. {@code bad profile: unexpected end of input}; may be empty. */
  public String serverMessage() {
    return serverMessage;
  }
}
