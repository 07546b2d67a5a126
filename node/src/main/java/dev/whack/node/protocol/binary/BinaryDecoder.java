package dev.whack.node.protocol.binary;

import dev.whack.node.protocol.ProtocolDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.List;

/**
 * Framing for the binary protocol: a state machine over the cumulated network buffer.
 *
 * <p>{@code HEADER} waits for 24 bytes and asks {@link BinaryCommands#checkShape} whether the
 * lengths fit the opcode before believing any of them; {@code KEY} waits for extras and key (at
 * most 20 + 250 bytes once the shape is checked); {@code VALUE} waits for a storage value, whose
 * length was first checked against the item size limit; {@code SWALLOW} discards the body of an
 * unknown opcode or a refused value; {@code CLOSED} drops everything after a protocol error, which
 * memcached answers with "Invalid arguments" and a close. So the bytes buffered for one connection
 * never exceed one header, one key and one item.
 *
 * <p>Concurrency: one per connection, on that connection's event loop.
 */
public final class BinaryDecoder extends ProtocolDecoder implements BinaryCommands.Framing {
  private static final int REQUEST_MAGIC = 0x80;

  private enum State {
    HEADER,
    KEY,
    VALUE,
    SWALLOW
  }

  private final BinaryCommands commands;
  private final BinaryRequest request = new BinaryRequest();
  private State state = State.HEADER;
  private long swallowRemaining;

  public BinaryDecoder(BinaryCommands commands) {
    super(commands);
    this.commands = commands;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.isReadable()) {
      if (closed()) {
        in.skipBytes(in.readableBytes());
        return;
      }
      if (!ready()) {
        return;
      }
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
      }
    }
  }

  private void readHeader(ByteBuf in) {
    int start = in.readerIndex();
    int magic = in.getUnsignedByte(start);
    if (magic != REQUEST_MAGIC) {
      // memcached drops a connection whose next request does not start with the magic byte.
      closeNow();
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
  protected boolean mayRunAheadOfAnswers(ByteBuf in) {
    if (state != State.HEADER || in.readableBytes() < 2) {
      return true; // a request already let through, or not one yet
    }
    return switch (in.getUnsignedByte(in.readerIndex() + 1)) {
      case Opcodes.SET, Opcodes.SETQ, Opcodes.DELETE, Opcodes.DELETEQ, Opcodes.NOOP -> true;
      case SegmentOpcodes.UPDATE, SegmentOpcodes.UPDATEQ -> true;
      default -> false;
    };
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
    if (answered()) {
      endOfRequest();
    }
  }

  @Override
  public void swallow(long bytes) {
    swallowRemaining = bytes;
    state = bytes > 0 ? State.SWALLOW : State.HEADER;
    endOfRequest();
  }
}
