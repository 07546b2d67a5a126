package dev.whack.node.protocol;

import dev.whack.node.durability.DurableLog;
import dev.whack.node.observability.WatchSession;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

/**
 * Collects the replies to every request of one read batch into a single buffer, written and flushed
 * once when the batch ends, so a pipelining client gets many replies per syscall.
 *
 * <p>The buffer never grows far past {@link #EARLY_WRITE_BYTES}: past it, what is collected is
 * handed to the channel (without a flush), where it counts towards the channel's write-buffer high
 * water mark. So "the channel is not writable" means "this connection holds as many reply bytes as
 * it may", and {@link #endOfPiece} is how a long reply asks whether it must stop and continue when
 * the client has read (docs/architecture.md, "Reply").
 *
 * <p>Concurrency: one per connection, used only on that connection's event loop.
 */
public final class ReplyBuffer implements WatchSession.Replies {
  /** Past this size a batch's replies are written out early, so a long pipeline stays bounded. */
  static final int EARLY_WRITE_BYTES = 256 * 1024;

  /**
   * Pieces a long reply writes in one turn before it yields the event loop to the loop's other
   * connections even if its client keeps up: a turn then costs well under a millisecond of lookups
   * (a multi-get of 200,000 misses would otherwise hold the loop for tens of them).
   */
  static final int PIECES_PER_TURN = 1024;

  private static final byte[] DIGITS_MIN_LONG =
      "9223372036854775808".getBytes(StandardCharsets.US_ASCII);

  private final ChannelHandlerContext ctx;
  private final LongAdder bytesWritten;
  private ByteBuf buffer;

  /** A reply is being written in pieces: nothing else may be written between them. */
  private boolean inPieces;

  private int piecesThisTurn;

  /** Under {@code --fsync always}, the log replies to logged writes wait for; else null. */
  private DurableLog durable;

  /** This thread's last log sequence when the turn began: a higher one was logged since. */
  private long turnStartSequence = -1;

  /** The highest sequence a flush of this connection waits for, or -1. */
  private long waitingFor = -1;

  private final Runnable flushWhenDurable;

  /**
   * Replies held behind an answer still to come (a write going through a managed cluster's log), in
   * request order: sealed buffers and {@link Later} answers. Empty in every other case.
   */
  private final ArrayDeque<Object> held = new ArrayDeque<>();

  private int answersToCome;
  private Runnable onAnswer = () -> {};

  /** An answer to come, and how to write it when it is the next reply in order. */
  private static final class Later {
    private final BiConsumer<Object, Throwable> writer;
    private boolean done;
    private Object value;
    private Throwable failure;

    @SuppressWarnings("unchecked")
    <T> Later(BiConsumer<T, Throwable> writer) {
      this.writer = (BiConsumer<Object, Throwable>) writer;
    }
  }

  /**
   * @param bytesWritten the node-wide counter of reply bytes ({@code stats bytes_written})
   * @param durable under {@code --fsync always}, the log whose durability replies to logged writes
   *     wait for (group commit); null otherwise
   */
  public ReplyBuffer(ChannelHandlerContext ctx, LongAdder bytesWritten, DurableLog durable) {
    this.ctx = ctx;
    this.bytesWritten = bytesWritten;
    this.durable = durable;
    this.flushWhenDurable = () -> ctx.channel().eventLoop().execute(ctx::flush);
  }

  /** The buffer to append the current reply to. */
  @Override
  public ByteBuf out() {
    ByteBuf b = buffer;
    if (b == null) {
      b = ctx.alloc().ioBuffer(4096);
      buffer = b;
    }
    return b;
  }

  public ReplyBuffer bytes(byte[] bytes) {
    out().writeBytes(bytes);
    return this;
  }

  public ReplyBuffer bytes(byte[] bytes, int offset, int length) {
    out().writeBytes(bytes, offset, length);
    return this;
  }

  public ReplyBuffer ascii(char c) {
    out().writeByte(c);
    return this;
  }

  /** Writes a signed decimal without allocating. */
  public ReplyBuffer decimal(long value) {
    writeDecimal(out(), value);
    return this;
  }

  /** Writes an unsigned 64-bit decimal without allocating. */
  public ReplyBuffer unsignedDecimal(long value) {
    writeUnsignedDecimal(out(), value);
    return this;
  }

  /** Called after each request: writes early if the batch has grown large. */
  public void endOfRequest() {
    if (buffer != null && buffer.readableBytes() >= EARLY_WRITE_BYTES) {
      write(false);
    }
  }

  /**
   * Called by a long reply after each of its pieces (a key of a multi-get, a key of a listing):
   * writes early if the buffer has grown large, and tells whether the reply must stop here because
   * the connection holds as many unread reply bytes as it may, or because it has had its turn. A
   * reply that stops continues when the client has read ({@link ProtocolDecoder#continueLater}).
   */
  public boolean endOfPiece() {
    endOfRequest();
    return ++piecesThisTurn >= PIECES_PER_TURN || !ctx.channel().isWritable();
  }

  /**
   * The connection now writes to {@code log} (under {@code --fsync always}; else null): it moved
   * into its user's tenant at login, before any write of its own, so no reply waits on the old one.
   */
  public void useLog(DurableLog log) {
    this.durable = log != null && log.fsync() == DurableLog.Fsync.ALWAYS ? log : null;
    if (durable != null) {
      turnStartSequence = durable.lastSequenceOfThisThread();
    }
  }

  /** A turn of the event loop for this connection begins: a long reply may write more pieces. */
  void newTurn() {
    piecesThisTurn = 0;
    if (durable != null) {
      turnStartSequence = durable.lastSequenceOfThisThread();
    }
  }

  /**
   * True while a reply is written in pieces: whatever writes outside the request order (a watch's
   * changes) must wait, or it would land inside that reply.
   */
  @Override
  public boolean inPieces() {
    return inPieces;
  }

  void inPieces(boolean inPieces) {
    this.inPieces = inPieces;
  }

  /**
   * Writes and flushes everything collected so far; under {@code --fsync always}, when this turn
   * logged a change that is not yet on disk (or an earlier flush still waits), writes without
   * flushing and flushes once the log is forced up to there: one fsync of the log thread then
   * releases the replies of every connection that wrote in that turn.
   */
  public void flush() {
    if (durable != null) {
      long logged = durable.lastSequenceOfThisThread();
      long durableBelow = durable.durableBelow();
      if (logged > turnStartSequence && logged >= durableBelow) {
        write(false);
        if (logged > waitingFor) {
          waitingFor = logged;
          durable.whenDurable(logged, flushWhenDurable);
        }
        return;
      }
      if (waitingFor >= durableBelow) {
        write(false); // behind replies that wait: their flush carries these too, in order
        return;
      }
    }
    write(true);
  }

  /**
   * The current request is answered by {@code answer}, later: what {@code writer} writes when it
   * completes takes this place in the reply order, and replies written meanwhile are held behind
   * it. The connection's decoder lets only requests that may run ahead of it through meanwhile
   * ({@link ProtocolDecoder}); {@code writer} runs on the event loop.
   */
  public <T> void answerLater(
      java.util.concurrent.CompletableFuture<T> answer, BiConsumer<T, Throwable> writer) {
    seal();
    Later later = new Later(writer);
    held.add(later);
    answersToCome++;
    answer.whenComplete(
        (value, failure) ->
            ctx.executor()
                .execute(
                    () -> {
                      later.value = value;
                      later.failure = failure;
                      later.done = true;
                      if (ctx.isRemoved()) {
                        return;
                      }
                      flush();
                      onAnswer.run();
                    }));
  }

  /** Answers still to come ({@link #answerLater}). */
  public int answersToCome() {
    return answersToCome;
  }

  /** Run on the event loop after each answer to come was written. */
  void onAnswer(Runnable then) {
    this.onAnswer = then;
  }

  /** Moves the current buffer behind what is held, so that later replies stay in order. */
  private void seal() {
    ByteBuf b = buffer;
    if (b != null && b.isReadable()) {
      buffer = null;
      held.add(b);
    }
  }

  /** Writes what is held up to the first answer still to come (its answers in their place). */
  private void writeHeld() {
    seal();
    while (!held.isEmpty()) {
      Object head = held.peekFirst();
      if (head instanceof Later later) {
        if (!later.done) {
          return;
        }
        held.pollFirst();
        answersToCome--;
        later.writer.accept(later.value, later.failure);
        ByteBuf answer = buffer;
        if (answer != null) {
          buffer = null;
          send(answer, false);
        }
      } else {
        held.pollFirst();
        send((ByteBuf) head, false);
      }
    }
  }

  /** Releases anything not yet written, when the connection goes away. */
  public void release() {
    if (buffer != null) {
      buffer.release();
      buffer = null;
    }
    for (Object o : held) {
      if (o instanceof ByteBuf b) {
        b.release();
      }
    }
    held.clear();
  }

  private void send(ByteBuf b, boolean flush) {
    bytesWritten.add(b.readableBytes());
    if (flush) {
      ctx.writeAndFlush(b, ctx.voidPromise());
    } else {
      ctx.write(b, ctx.voidPromise());
    }
  }

  private void write(boolean flush) {
    if (!held.isEmpty()) {
      writeHeld();
      if (!held.isEmpty()) {
        if (flush) {
          ctx.flush(); // what was written ahead of the answer to come
        }
        return;
      }
    }
    ByteBuf b = buffer;
    if (b != null && b.isReadable()) {
      buffer = null;
      bytesWritten.add(b.readableBytes());
      if (flush) {
        ctx.writeAndFlush(b, ctx.voidPromise());
      } else {
        ctx.write(b, ctx.voidPromise());
      }
    } else if (flush) {
      ctx.flush();
    }
  }

  public static void writeDecimal(ByteBuf out, long value) {
    if (value < 0) {
      out.writeByte('-');
      if (value == Long.MIN_VALUE) {
        out.writeBytes(DIGITS_MIN_LONG);
        return;
      }
      value = -value;
    }
    writeUnsignedDecimal(out, value);
  }

  public static void writeUnsignedDecimal(ByteBuf out, long value) {
    if (value >= 0 && value < 10_000) {
      // Flags and value sizes are mostly short: one write of the packed digits, not one checked
      // setByte per digit.
      int v = (int) value;
      if (v < 10) {
        out.writeByte('0' + v);
      } else if (v < 100) {
        out.writeShort(digit(v / 10) << 8 | digit(v));
      } else if (v < 1000) {
        out.writeMedium(digit(v / 100) << 16 | digit(v / 10) << 8 | digit(v));
      } else {
        out.writeInt(digit(v / 1000) << 24 | digit(v / 100) << 16 | digit(v / 10) << 8 | digit(v));
      }
      return;
    }
    int digits = unsignedDigits(value);
    int end = out.writerIndex() + digits;
    out.ensureWritable(digits);
    int pos = end;
    long v = value;
    if (v < 0) {
      // Top bit set: peel one digit with unsigned division to get into positive range.
      long q = Long.divideUnsigned(v, 10);
      out.setByte(--pos, '0' + (int) (v - q * 10));
      v = q;
    }
    while (v >= 10) {
      long q = v / 10;
      out.setByte(--pos, '0' + (int) (v - q * 10));
      v = q;
    }
    out.setByte(--pos, '0' + (int) v);
    out.writerIndex(end);
  }

  /** The ASCII digit of {@code v}'s units. */
  private static int digit(int v) {
    return '0' + v % 10;
  }

  static int unsignedDigits(long value) {
    if (value < 0) {
      return 20 - (Long.compareUnsigned(value, -8446744073709551616L) < 0 ? 1 : 0);
    }
    long bound = 10;
    for (int digits = 1; digits < 19; digits++) {
      if (value < bound) {
        return digits;
      }
      bound *= 10;
    }
    return 19;
  }
}
