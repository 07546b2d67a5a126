package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * {@code segcount <bytes>\r\n<query>\r\n} or {@code filtercount <bytes>\r\n<filter>\r\n}: {@code
 * COUNT <n>}, this node's count.
 */
public final class CountRequest extends LineRequest<Long> {
  private final String command;
  private final byte[] expression;

  private CountRequest(String command, String expression) {
    super(null, null);
    this.command = command;
    this.expression = expression.getBytes(StandardCharsets.UTF_8);
  }

  /** The size of a segment or a segment query such as {@code dk_buyers and not churned}. */
  public static CountRequest segment(String query) {
    return new CountRequest("segcount", query);
  }

  /** The number of profiles matching an ad-hoc filter expression. */
  public static CountRequest filter(String filter) {
    return new CountRequest("filtercount", filter);
  }

  @Override
  public String command() {
    return command;
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, Encode.LOCAL);
    Encode.word(out, command);
    out.writeByte(Encode.SPACE);
    Encode.number(out, expression.length);
    Encode.crlf(out);
    Encode.block(out, expression);
  }

  @Override
  boolean parseLine(String line) {
    if (line.startsWith("COUNT ")) {
      return succeed(Lines.nonNegativeLong(line.substring(6), line));
    }
    return errorOrCorrupt(line);
  }
}
