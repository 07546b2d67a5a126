package dev.whack.client.protocol;

/**
 * Thrown by a reply parser when the bytes cannot be the reply it expects. The transport turns it
 * into a {@link dev.whack.client.CorruptReplyException} naming the node and closes the connection.
 */
public final class ReplyFormatException extends RuntimeException {
  public ReplyFormatException(String message) {
    super(message);
  }
}
