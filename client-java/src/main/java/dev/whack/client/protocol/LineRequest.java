package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;

/** A request whose reply is one line. */
abstract class LineRequest<T> extends Request<T> {
  private final byte[] fastReply;
  private final T fastValue;

  /**
   * @param fastReply the usual reply with its {@code \r\n}, matched without building a string
   * @param fastValue the result it stands for
   */
  LineRequest(byte[] fastReply, T fastValue) {
    this.fastReply = fastReply;
    this.fastValue = fastValue;
  }

  @Override
  protected final boolean parse(ByteBuf in) {
    if (fastReply != null && Lines.consume(in, fastReply)) {
      return succeed(fastValue);
    }
    String line = Lines.readLine(in);
    if (line == null) {
      return false;
    }
    return parseLine(line);
  }

  /** Completes the future from the reply line, or throws {@link ReplyFormatException}. */
  abstract boolean parseLine(String line);
}
