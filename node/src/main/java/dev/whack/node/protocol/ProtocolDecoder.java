package dev.whack.node.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

/**
 * What the text and binary decoders share around their own state machines: the connection's
 * {@link ReplyBuffer}, flushed once per read batch; traffic counting; holding later requests
 * while one is answered elsewhere ({@link #suspend}, {@link #resume}, for keys forwarded to their
 * owner); closing after the last reply; and telling the commands when the connection is gone.
 *
 * <p>Concurrency: one per connection, on that connection's event loop.
 */
public abstract class ProtocolDecoder extends ByteToMessageDecoder {
  /** The commands side of a decoder: what this base class tells them about the connection. */
  public interface Commands {
    /** The connection and its reply buffer, once, before any request. */
    void attach(ChannelHandlerContext ctx, ReplyBuffer replies);

    /** The node-wide counter of reply bytes ({@code stats bytes_written}). */
    java.util.concurrent.atomic.LongAdder bytesWrittenCounter();

    void countBytesRead(int bytes);

    /** The connection is gone: release what it held. */
    void close();
  }

  private final Commands commands;
  protected ChannelHandlerContext ctx;
  protected ReplyBuffer replies;
  private boolean awaiting;
  private boolean closed;

  protected ProtocolDecoder(Commands commands) {
    this.commands = commands;
  }

  @Override
  public final void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    replies = new ReplyBuffer(ctx, commands.bytesWrittenCounter());
    commands.attach(ctx, replies);
  }

  @Override
  public final void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof ByteBuf buf) {
      commands.countBytesRead(buf.readableBytes());
    }
    super.channelRead(ctx, msg);
  }

  /** True while a request is answered elsewhere: the decode loop must stop where it is. */
  protected final boolean awaiting() {
    return awaiting;
  }

  /** True once the connection is closing: input is dropped. */
  protected final boolean closed() {
    return closed;
  }

  /** Hold every later request until {@link #resume}: this one is answered asynchronously. */
  public final void suspend() {
    awaiting = true;
    // Stop reading: what the client pipelines meanwhile stays in the kernel, not in our heap.
    ctx.channel().config().setAutoRead(false);
  }

  /** The asynchronous answer has been written: decode what arrived meanwhile and carry on. */
  public final void resume() {
    if (!awaiting) {
      return;
    }
    awaiting = false;
    ctx.channel().config().setAutoRead(true);
    try {
      channelRead(ctx, Unpooled.EMPTY_BUFFER);
    } catch (Exception e) {
      ctx.fireExceptionCaught(e);
    }
    replies.flush();
  }

  /** Send what is queued, then close; input after this is ignored. */
  public final void closeAfterFlush() {
    closed = true;
    replies.flush();
    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  /** Stops reading and closes at once, after what is already queued (a fatal framing error). */
  protected final void closeNow() {
    closed = true;
    replies.flush();
    ctx.close();
  }

  /**
   * A request whose handling failed unexpectedly (a bug, or no memory left for its reply) ends its
   * connection after what was already queued. Left open, the requests behind it would sit unread
   * in the cumulation buffer with nothing to make the node decode them again, while the client
   * waits for their replies: issue 13 saw an ingesting connection stall for good that way once
   * direct memory had run out. {@link dev.whack.node.server.ConnectionTracker}, first in the
   * pipeline, never sees these failures: an exception travels from its handler toward the tail.
   */
  @Override
  public final void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    closeNow();
  }

  @Override
  public final void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    replies.flush();
    super.channelReadComplete(ctx);
  }

  @Override
  protected final void handlerRemoved0(ChannelHandlerContext ctx) {
    commands.close();
    replies.release();
  }
}
