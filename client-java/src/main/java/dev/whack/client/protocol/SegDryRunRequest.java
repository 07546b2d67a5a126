package dev.whack.client.protocol;

import dev.whack.client.SegmentDryRun;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code segdef <name> <bytes> dryrun <sample>\r\n<expression>\r\n}: {@code COUNT <n>}, then {@code
 * KEY <key>} per sampled member (at most {@code <sample>}), then {@code END}; this node's part,
 * defining nothing.
 */
public final class SegDryRunRequest extends Request<SegmentDryRun> {
  /** The largest sample a node gives. */
  public static final int MAX_SAMPLE = 1000;

  private static final byte[] END = Lines.ascii("END\r\n");
  private final byte[] name;
  private final byte[] expression;
  private final int sample;
  private long count = -1;
  private final List<String> keys = new ArrayList<>();

  /**
   * @throws IllegalArgumentException a name that is not a token, or a sample outside 0 to 1000
   */
  public SegDryRunRequest(String name, String expression, int sample) {
    if (sample < 0 || sample > MAX_SAMPLE) {
      throw new IllegalArgumentException("a sample is 0 to " + MAX_SAMPLE + " keys, got " + sample);
    }
    this.name = Keys.segmentName(name);
    this.expression = expression.getBytes(StandardCharsets.UTF_8);
    this.sample = sample;
  }

  @Override
  public String command() {
    return "segdef";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, Encode.LOCAL);
    Encode.word(out, "segdef ");
    out.writeBytes(name);
    out.writeByte(Encode.SPACE);
    Encode.number(out, expression.length);
    Encode.word(out, " dryrun ");
    Encode.number(out, sample);
    Encode.crlf(out);
    Encode.block(out, expression);
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (true) {
      if (count < 0) {
        String line = Lines.readLine(in);
        if (line == null) {
          return false;
        }
        if (!line.startsWith("COUNT ")) {
          return errorOrCorrupt(line);
        }
        count = Lines.nonNegativeLong(line.substring(6), line);
        continue;
      }
      if (Lines.consume(in, END)) {
        return succeed(new SegmentDryRun(count, keys));
      }
      String line = Lines.readLine(in);
      if (line == null) {
        return false;
      }
      if (!line.startsWith("KEY ") || line.length() == 4 || line.indexOf(' ', 4) >= 0) {
        throw unexpected(line);
      }
      if (keys.size() == sample) {
        throw unexpected(line + " (more keys than the sample of " + sample + ")");
      }
      keys.add(Keys.unescape(line.substring(4)));
    }
  }
}
