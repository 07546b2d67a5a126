package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A request passed through unchanged, for a node that forwards a key it does not own: the client's
 * own command bytes followed by {@code mn}, and everything the owner answers before {@code MN}
 * comes back as bytes. The no-op marks the end of the reply whatever the command was, even a quiet
 * one that answers nothing. Data blocks are skipped by the lengths their lines declare ({@code
 * VALUE}, {@code VA}, {@code PROFILE}, {@code SEGMENT}), so a value holding "MN" cannot end the
 * reply early.
 *
 * <p>Concurrency: as every {@link Request}.
 */
public final class RelayRequest extends Request<byte[]> {
  private static final byte[] NOOP = Lines.ascii("mn\r\n");
  private final byte[] request;
  private final ByteArrayOutputStream reply = new ByteArrayOutputStream();

  /** Bytes of a data block (with its CRLF) still to copy, before the next line. */
  private int blockRemaining;

  /**
   * @param request one or more whole commands, each with its data block if it has one
   */
  public RelayRequest(byte[] request) {
    this.request = request;
  }

  @Override
  public String command() {
    return "relay";
  }

  @Override
  public void encode(ByteBuf out) {
    out.writeBytes(request).writeBytes(NOOP);
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (true) {
      if (blockRemaining > 0) {
        int n = Math.min(blockRemaining, in.readableBytes());
        if (n == 0) {
          return false;
        }
        copy(in, n);
        blockRemaining -= n;
        continue;
      }
      int start = in.readerIndex();
      int newline = in.indexOf(start, in.writerIndex(), (byte) '\n');
      if (newline < 0) {
        if (in.readableBytes() > Lines.MAX_LINE_BYTES) {
          throw new ReplyFormatException(
              "a relayed reply line longer than " + Lines.MAX_LINE_BYTES + " bytes");
        }
        return false;
      }
      int length = newline + 1 - start;
      String line = in.toString(start, length, StandardCharsets.ISO_8859_1);
      if (line.equals("MN\r\n")) {
        in.skipBytes(length);
        return succeed(reply.toByteArray());
      }
      copy(in, length);
      blockRemaining = declaredBlock(line);
    }
  }

  private void copy(ByteBuf in, int n) {
    if (reply.size() + n > Lines.MAX_BLOCK_BYTES) {
      throw new ReplyFormatException(
          "a relayed reply larger than " + Lines.MAX_BLOCK_BYTES + " bytes");
    }
    reply.write(ByteBufUtil.getBytes(in, in.readerIndex(), n), 0, n);
    in.skipBytes(n);
  }

  /** The data block a reply line announces, with its CRLF, or 0. */
  static int declaredBlock(String line) {
    String[] t = line.trim().split(" ");
    int index =
        switch (t[0]) {
          case "VALUE", "SEGMENT" -> 3;
          case "VA" -> 1;
          case "PROFILE" -> 2;
          default -> -1;
        };
    if (index < 0) {
      return 0;
    }
    if (t.length <= index) {
      throw new ReplyFormatException("a relayed reply line without its length: " + line.trim());
    }
    try {
      int bytes = Integer.parseInt(t[index]);
      if (bytes < 0 || bytes > Lines.MAX_BLOCK_BYTES) {
        throw new ReplyFormatException("a relayed data block of " + bytes + " bytes");
      }
      return bytes + 2;
    } catch (NumberFormatException e) {
      throw new ReplyFormatException("a relayed reply line with a bad length: " + line.trim());
    }
  }
}
