package dev.whack.node.protocol.ascii;

import dev.whack.node.protocol.ProtocolDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Framing for the text protocol (classic and meta commands share it): a state machine over the
 * connection's cumulated network buffer that cuts it into command lines and data blocks and hands
 * each to {@link AsciiCommands}. It never touches the store.
 *
 * <p>States: {@code LINE} waits for a newline; {@code DATA} waits for a whole data block of the
 * length the command line declared (already checked against the item size limit, so the wait is
 * bounded); {@code SWALLOW} discards a refused data block as it arrives; {@code CLOSED} ignores
 * everything after a fatal error. A line longer than {@link #MAX_LINE_BYTES} (retrieval commands:
 * {@link #MAX_RETRIEVAL_LINE_BYTES}, so that large multi-gets fit) is an error that closes the
 * connection, as memcached closes it.
 *
 * <p>Concurrency: one per connection, on that connection's event loop.
 */
public final class AsciiDecoder extends ProtocolDecoder implements AsciiCommands.Framing {
  static final int MAX_LINE_BYTES = 2048;
  public static final int MAX_RETRIEVAL_LINE_BYTES = 2 * 1024 * 1024;
  private static final byte[] LINE_TOO_LONG =
      "CLIENT_ERROR line too long\r\n".getBytes(StandardCharsets.US_ASCII);

  private enum State {
    LINE,
    DATA,
    SWALLOW
  }

  private final AsciiCommands commands;
  private final AsciiLine line = new AsciiLine();
  private State state = State.LINE;
  private int dataLength;
  private long swallowRemaining;

  public AsciiDecoder(AsciiCommands commands) {
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
        case LINE -> {
          if (!readLine(in)) {
            return;
          }
        }
        case DATA -> {
          if (in.readableBytes() < dataLength + 2) {
            return;
          }
          byte[] data = new byte[dataLength];
          in.readBytes(data);
          boolean terminated = in.readByte() == '\r' & in.readByte() == '\n';
          state = State.LINE;
          commands.onData(data, terminated, this);
          if (answered()) {
            endOfRequest();
          }
        }
        case SWALLOW -> {
          int skip = (int) Math.min(in.readableBytes(), swallowRemaining);
          in.skipBytes(skip);
          swallowRemaining -= skip;
          if (swallowRemaining == 0) {
            state = State.LINE;
          }
        }
      }
    }
  }

  /**
   * What may run while writes through the log wait for their answers: those writes, and {@code mn}
   * (it reads nothing; a forwarding member ends each relayed pipeline with it).
   */
  private static final byte[][] RUNS_AHEAD = {
    "set ".getBytes(StandardCharsets.US_ASCII),
    "update ".getBytes(StandardCharsets.US_ASCII),
    "delete ".getBytes(StandardCharsets.US_ASCII),
    "mn\r\n".getBytes(StandardCharsets.US_ASCII)
  };

  @Override
  protected boolean mayRunAheadOfAnswers(ByteBuf in) {
    if (state != State.LINE) {
      return true; // the rest of a command already let through
    }
    int start = in.readerIndex();
    int readable = in.readableBytes();
    for (byte[] command : RUNS_AHEAD) {
      int n = Math.min(readable, command.length);
      int i = 0;
      while (i < n && in.getByte(start + i) == command[i]) {
        i++;
      }
      if (i == n) {
        return true; // one of them, or the start of one: read on and see
      }
    }
    return false;
  }

  /** Reads and executes one line; false if more bytes are needed first. */
  private boolean readLine(ByteBuf in) {
    int start = in.readerIndex();
    int readable = in.readableBytes();
    // Before authentication every line is short: no client buffers 2 MiB here unauthenticated.
    int limit = commands.authenticated() ? lineLimit(in) : MAX_LINE_BYTES;
    int newline = in.indexOf(start, start + Math.min(readable, limit + 1), (byte) '\n');
    if (newline < 0) {
      if (readable > limit) {
        lineTooLong(in);
      }
      return false;
    }
    int length = newline - start;
    line.load(in, length);
    in.readerIndex(newline + 1);
    commands.onLine(line, this);
    if (state == State.LINE && answered()) {
      endOfRequest();
    }
    return true;
  }

  /** Retrieval commands may carry many keys; every other line is short. */
  private static int lineLimit(ByteBuf in) {
    int i = in.readerIndex();
    if (in.readableBytes() > 5 && in.getByte(i) == 'g') {
      int second = in.getByte(i + 1);
      int third = in.getByte(i + 2);
      boolean getOrGat = (second == 'e' && third == 't') || (second == 'a' && third == 't');
      int next = in.getByte(i + 3);
      if (getOrGat && (next == ' ' || (next == 's' && in.getByte(i + 4) == ' '))) {
        return MAX_RETRIEVAL_LINE_BYTES;
      }
    }
    return MAX_LINE_BYTES;
  }

  private void lineTooLong(ByteBuf in) {
    in.skipBytes(in.readableBytes());
    commands.countProtocolError();
    replies.bytes(LINE_TOO_LONG);
    closeAfterFlush();
  }

  @Override
  public void expectData(int length) {
    dataLength = length;
    state = State.DATA;
  }

  @Override
  public void swallow(long bytes) {
    swallowRemaining = bytes;
    state = bytes > 0 ? State.SWALLOW : State.LINE;
  }
}
