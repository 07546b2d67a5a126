package dev.whack.client.transport;

import io.netty.buffer.ByteBuf;

/**
 * Takes lines a node pushes between replies (a watch's changes). Called on the connection's event
 * loop at a reply boundary only.
 */
public interface PushHandler {
  enum Result {
    /** A push line was consumed. */
    CONSUMED,
    /** The bytes are a reply: hand them to the request at the head. */
    NOT_A_PUSH,
    /** Too few bytes to tell; wait for more. */
    INCOMPLETE
  }

  Result tryConsume(String node, ByteBuf in);
}
