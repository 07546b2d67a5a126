package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.io.ByteArrayOutputStream;

/**
 * The binary-protocol twin of {@link RelayRequest}: whole binary requests passed through unchanged,
 * followed by a NoOp; every response packet before the NoOp's comes back as bytes. The NoOp answers
 * after everything sent before it (quiet requests included), so it marks the end of the answer
 * whatever the requests were. Sent only on connections that carry the binary protocol.
 *
 * <p>Concurrency: as every {@link Request}.
 */
public final class BinaryRelayRequest extends Request<byte[]> {
  private static final int HEADER = 24;
  private static final int RESPONSE_MAGIC = 0x81;
  private static final int NOOP = 0x0a;

  private final byte[] requests;
  private final ByteArrayOutputStream reply = new ByteArrayOutputStream();

  /**
   * @param requests one or more whole binary requests (header, extras, key, value)
   */
  public BinaryRelayRequest(byte[] requests) {
    this.requests = requests;
  }

  /** A lone NoOp: the probe that tells whether a binary connection's node is back. */
  public static BinaryRelayRequest noop() {
    return new BinaryRelayRequest(new byte[0]);
  }

  @Override
  public String command() {
    return "binary relay";
  }

  @Override
  public void encode(ByteBuf out) {
    out.writeBytes(requests);
    out.writeByte(0x80).writeByte(NOOP).writeShort(0).writeByte(0).writeByte(0).writeShort(0);
    out.writeInt(0).writeInt(0).writeLong(0);
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (in.readableBytes() >= HEADER) {
      int start = in.readerIndex();
      if (in.getUnsignedByte(start) != RESPONSE_MAGIC) {
        throw new ReplyFormatException("a relayed binary response without the response magic");
      }
      long body = in.getUnsignedInt(start + 8);
      if (body > Lines.MAX_BLOCK_BYTES) {
        throw new ReplyFormatException("a relayed binary response of " + body + " bytes");
      }
      if (in.readableBytes() < HEADER + body) {
        return false;
      }
      int length = HEADER + (int) body;
      if (in.getUnsignedByte(start + 1) == NOOP) {
        in.skipBytes(length);
        return succeed(reply.toByteArray());
      }
      if (reply.size() + length > Lines.MAX_BLOCK_BYTES) {
        throw new ReplyFormatException(
            "a relayed binary answer larger than " + Lines.MAX_BLOCK_BYTES);
      }
      reply.write(ByteBufUtil.getBytes(in, start, length), 0, length);
      in.skipBytes(length);
    }
    return false;
  }
}
