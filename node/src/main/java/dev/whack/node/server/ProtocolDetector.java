package dev.whack.node.server;

import dev.whack.node.protocol.ProtocolContext;
import dev.whack.node.protocol.ascii.AsciiCommands;
import dev.whack.node.protocol.ascii.AsciiDecoder;
import dev.whack.node.protocol.binary.BinaryCommands;
import dev.whack.node.protocol.binary.BinaryDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Chooses the protocol of a connection from its first byte, once: binary requests start with the
 * magic byte 0x80, anything else is the text protocol (classic and meta). Installs that decoder and
 * removes itself; bytes already read are handed to the new decoder.
 */
public final class ProtocolDetector extends ByteToMessageDecoder {
  static final int BINARY_REQUEST_MAGIC = 0x80;

  private final ProtocolContext context;

  public ProtocolDetector(ProtocolContext context) {
    this.context = context;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (!in.isReadable()) {
      return;
    }
    int first = in.getUnsignedByte(in.readerIndex());
    if (first == BINARY_REQUEST_MAGIC) {
      ctx.pipeline().addAfter(ctx.name(), "binary", new BinaryDecoder(new BinaryCommands(context)));
    } else {
      ctx.pipeline().addAfter(ctx.name(), "text", new AsciiDecoder(new AsciiCommands(context)));
    }
    ctx.pipeline().remove(this);
  }

  /** A client that ends its input before its first byte has nothing to be answered. */
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof ChannelInputShutdownEvent) {
      ctx.close();
      return;
    }
    super.userEventTriggered(ctx, event);
  }
}
