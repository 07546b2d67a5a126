package dev.whack.client.protocol;

import dev.whack.client.BadExpressionException;
import dev.whack.client.ServerErrorException;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One request of the text protocol and the parser of its reply.
 *
 * <p>A connection writes {@link #encode} and then, as bytes arrive, calls {@link #decode} on the
 * request at the head of its FIFO until it returns true. The parser consumes what it can (whole
 * lines, whole data blocks) and keeps its state in the request, so a reply split across reads is
 * parsed as it arrives. A reply that cannot belong to this request throws {@link
 * ReplyFormatException}; the connection then closes. An error reply ({@code ERROR}, {@code
 * CLIENT_ERROR}, {@code SERVER_ERROR}) in place of the reply completes the future exceptionally and
 * leaves the connection usable.
 *
 * <p>Concurrency: built by the caller's thread, then encoded and decoded only on the connection's
 * event loop. The future may be completed from any thread (first completion wins).
 */
public abstract class Request<T> {
  private static final Pattern BAD_EXPRESSION =
      Pattern.compile("bad expression at position (\\d+): (.*)", Pattern.DOTALL);

  private final CompletableFuture<T> future = new CompletableFuture<>();
  private String node;
  private long deadlineNanos;
  private boolean started;
  private boolean holding;
  private T heldValue;
  private boolean hasHeldValue;
  private Throwable heldError;

  /** The command word, for messages ({@code get}, {@code segcount}). */
  public abstract String command();

  /** Writes the request's bytes. Never fails: everything was checked when it was built. */
  public abstract void encode(ByteBuf out);

  /**
   * Reads the reply from {@code in} as far as it goes.
   *
   * @return true once the whole reply has been read and the future completed
   * @throws ReplyFormatException if the bytes are not a reply to this request
   */
  protected abstract boolean parse(ByteBuf in);

  public final boolean decode(ByteBuf in) {
    boolean done = decodeHeld(in);
    if (done) {
      release();
    }
    return done;
  }

  /**
   * Like {@link #decode} but holds the outcome back until {@link #release}: a connection first
   * takes the finished request off its books, so that whatever the completion triggers (a bulk
   * writer sending its next request) already sees the room it left.
   */
  public final boolean decodeHeld(ByteBuf in) {
    int before = in.readerIndex();
    holding = true;
    boolean done;
    try {
      done = parse(in);
    } finally {
      holding = false;
    }
    if (in.readerIndex() != before) {
      started = true;
    }
    return done;
  }

  /** Completes the future with the outcome a held decode reached. */
  public final void release() {
    if (heldError != null) {
      future.completeExceptionally(heldError);
    } else if (hasHeldValue) {
      future.complete(heldValue);
    }
    heldError = null;
    heldValue = null;
    hasHeldValue = false;
  }

  /** True once part of the reply has been consumed: the connection is inside this reply. */
  public final boolean started() {
    return started;
  }

  public final CompletableFuture<T> future() {
    return future;
  }

  /** Called by the connection that sends it. */
  public final void bind(String node, long deadlineNanos) {
    this.node = node;
    this.deadlineNanos = deadlineNanos;
  }

  public final String node() {
    return node;
  }

  public final long deadlineNanos() {
    return deadlineNanos;
  }

  public final void fail(Throwable cause) {
    future.completeExceptionally(cause);
  }

  protected final boolean succeed(T value) {
    if (holding) {
      heldValue = value;
      hasHeldValue = true;
    } else {
      future.complete(value);
    }
    return true;
  }

  /**
   * If {@code line} is an error reply, completes the future with it and returns true; otherwise
   * throws: the line is neither this request's reply nor an error.
   */
  protected final boolean errorOrCorrupt(String line) {
    ServerErrorException error = serverError(node, line);
    if (error == null) {
      throw unexpected(line);
    }
    if (holding) {
      heldError = error;
    } else {
      future.completeExceptionally(error);
    }
    return true;
  }

  /**
   * Completes the future with {@code error}, a reply that means failure in this request's own terms
   * (a refused authentication); returns true, as the reply was read.
   */
  protected final boolean failWith(Throwable error) {
    if (holding) {
      heldError = error;
    } else {
      future.completeExceptionally(error);
    }
    return true;
  }

  protected final ReplyFormatException unexpected(String line) {
    return new ReplyFormatException("unexpected reply to " + command() + ": " + line);
  }

  /** The exception for an error line, or null if the line is not one. */
  static ServerErrorException serverError(String node, String line) {
    if (line.equals("ERROR")) {
      return new ServerErrorException(node, "ERROR", "");
    }
    if (line.startsWith("ERROR ")) {
      return new ServerErrorException(node, "ERROR", line.substring(6));
    }
    if (line.startsWith("SERVER_ERROR ")) {
      return new ServerErrorException(node, "SERVER_ERROR", line.substring(13));
    }
    if (line.startsWith("CLIENT_ERROR ")) {
      String message = line.substring(13);
      Matcher bad = BAD_EXPRESSION.matcher(message);
      if (bad.matches()) {
        try {
          return new BadExpressionException(
              node, message, Integer.parseInt(bad.group(1)), bad.group(2));
        } catch (NumberFormatException e) {
          return new ServerErrorException(node, "CLIENT_ERROR", message);
        }
      }
      return new ServerErrorException(node, "CLIENT_ERROR", message);
    }
    return null;
  }

  @Override
  public String toString() {
    return command() + " to " + node;
  }
}
