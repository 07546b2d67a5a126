package dev.whack.node.protocol.binary;

import dev.whack.node.protocol.ReplyBuffer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Framing for the binary protocol: a state machine over the cumulated network buffer.
 *
 * <p>{@code HEADER} waits for 24 bytes and asks {@link BinaryCommands#checkShape} whether the
 * lengths fit the opcode before believing any of them; {@code KEY} waits for extras and key
 * (at most 20 + 250 bytes once the shape is checked); {@code VALUE} waits for a storage value,
 * whose length was first checked against the item size limit; {@code SWALLOW} discards the body
 * of an unknown opcode or a refused value; {@code CLOSED} drops everything after a protocol error,
 * which memcached answers with "Invalid arguments" and a close. So the bytes buffered for one
 * connection never exceed one header, one key and one item.
 *
 * <p>Concurrency: one per connection, on that connection's event loop.
 */
public final class BinaryDecoder extends ByteToMessageDecoder implements BinaryCommands.Framing {
  private static final int REQUEST_MAGIC = 0x80;

  private enum State {
    HEADER,
    KEY,
    VALUE,
    SWALLOW,
    /** A forwarded request is out at its owner; later requests wait, in order, behind it. */
    AWAIT,
    CLOSED
  }

  private final BinaryCommands commands;
  private final BinaryRequest request = new BinaryRequest();
  private ChannelHandlerContext ctx;
  private ReplyBuffer replies;
  private State state = State.HEADER;
  private long swallowRemaining;

  public BinaryDecoder(BinaryCommands commands) {
    this.commands = commands;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    replies = new ReplyBuffer(ctx, commands.bytesWrittenCounter());
    commands.attach(ctx, replies);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof ByteBuf buf) {
      commands.countBytesRead(buf.readableBytes());
    }
    super.channelRead(ctx, msg);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.isReadable()) {
      switch (state) {
        case HEADER -> {
          if (in.readableBytes() < BinaryRequest.HEADER_LENGTH) {
            return;
          }
          readHeader(in);
        }
        case KEY -> {
          int needed = request.extrasLength + request.keyLength;
          if (in.readableBytes() < needed) {
            return;
          }
          commands.readKeyAndExtras(request, in);
          commands.afterKey(request, this);
        }
        case VALUE -> {
          int length = (int) request.valueLength();
          if (in.readableBytes() < length) {
            return;
          }
          byte[] value = new byte[length];
          in.readBytes(value);
          request.value = value;
          state = State.HEADER;
          commands.execute(request, this);
        }
        case SWALLOW -> {
          int skip = (int) Math.min(in.readableBytes(), swallowRemaining);
          in.skipBytes(skip);
          swallowRemaining -= skip;
          if (swallowRemaining == 0) {
            state = State.HEADER;
          }
        }
        case AWAIT -> {
          return;
        }
        case CLOSED -> {
          in.skipBytes(in.readableBytes());
          return;
        }
      }
    }
  }

  private void readHeader(ByteBuf in) {
    int start = in.readerIndex();
    int magic = in.getUnsignedByte(start);
    if (magic != REQUEST_MAGIC) {
      // memcached drops a connection whose next request does not start with the magic byte.
      state = State.CLOSED;
      replies.flush();
      ctx.close();
      return;
    }
    BinaryRequest r = request;
    r.opcode = in.getUnsignedByte(start + 1);
    r.keyLength = in.getUnsignedShort(start + 2);
    r.extrasLength = in.getUnsignedByte(start + 4);
    r.dataType = in.getUnsignedByte(start + 5);
    r.bodyLength = in.getUnsignedInt(start + 8);
    r.opaque = in.getInt(start + 12);
    r.cas = in.getLong(start + 16);
    r.value = null;
    in.skipBytes(BinaryRequest.HEADER_LENGTH);
    commands.checkShape(r, this);
  }

  @Override
  public void readKeyAndExtras() {
    state = State.KEY;
  }

  @Override
  public void readValue() {
    state = State.VALUE;
  }

  @Override
  public void done() {
    state = State.HEADER;
    replies.endOfRequest();
  }

  @Override
  public void swallow(long bytes) {
    swallowRemaining = bytes;
    state = bytes > 0 ? State.SWALLOW : State.HEADER;
    replies.endOfRequest();
  }

  @Override
  public void suspend() {
    state = State.AWAIT;
    ctx.channel().config().setAutoRead(false);
  }

  @Override
  public void resume() {
    if (state != State.AWAIT) {
      return;
    }
    state = State.HEADER;
    ctx.channel().config().setAutoRead(true);
    try {
      channelRead(ctx, Unpooled.EMPTY_BUFFER); // decode what arrived while we waited
    } catch (Exception e) {
      ctx.fireExceptionCaught(e);
    }
    replies.flush();
  }

  @Override
  public void closeAfterFlush() {
    state = State.CLOSED;
    replies.flush();
    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    replies.flush();
    super.channelReadComplete(ctx);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().isWritable()) {
      commands.onWritable();
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    commands.close();
    replies.release();
  }
}
