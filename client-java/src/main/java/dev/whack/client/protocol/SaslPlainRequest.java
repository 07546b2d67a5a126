package dev.whack.client.protocol;

import dev.whack.client.AuthenticationException;
import dev.whack.client.transport.Credentials;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The first request of a binary connection with credentials: SASL Auth (opcode 0x21) with the
 * mechanism {@code PLAIN} as key and {@code NUL user NUL password} as value (RFC 4616), as
 * memcached with {@code -S} takes it. Status 0 is true (authenticated); 0x20 fails with {@link
 * AuthenticationException}; 0x81 (unknown command) is false: the node checks no credentials, and
 * the connection goes on without.
 *
 * <p>Concurrency: as every {@link Request}.
 */
public final class SaslPlainRequest extends Request<Boolean> {
  private static final int HEADER = 24;
  private static final int RESPONSE_MAGIC = 0x81;
  private static final int SASL_AUTH = 0x21;
  private static final int STATUS_OK = 0x00;
  private static final int STATUS_AUTH_ERROR = 0x20;
  private static final int STATUS_UNKNOWN_COMMAND = 0x81;
  private static final byte[] PLAIN = "PLAIN".getBytes(StandardCharsets.US_ASCII);

  private final Credentials credentials;

  public SaslPlainRequest(Credentials credentials) {
    this.credentials = credentials;
  }

  @Override
  public String command() {
    return "SASL PLAIN";
  }

  @Override
  public void encode(ByteBuf out) {
    byte[] user = credentials.user().getBytes(StandardCharsets.UTF_8);
    byte[] password = credentials.password();
    int value = 1 + user.length + 1 + password.length;
    out.writeByte(0x80).writeByte(SASL_AUTH).writeShort(PLAIN.length);
    out.writeByte(0).writeByte(0).writeShort(0); // extras, data type, vbucket
    out.writeInt(PLAIN.length + value).writeInt(0).writeLong(0); // body, opaque, cas
    out.writeBytes(PLAIN);
    out.writeByte(0).writeBytes(user).writeByte(0).writeBytes(password);
    Arrays.fill(password, (byte) 0);
  }

  @Override
  protected boolean parse(ByteBuf in) {
    if (in.readableBytes() < HEADER) {
      return false;
    }
    int start = in.readerIndex();
    if (in.getUnsignedByte(start) != RESPONSE_MAGIC || in.getUnsignedByte(start + 1) != SASL_AUTH) {
      throw new ReplyFormatException("not the answer to SASL Auth: " + Lines.preview(in));
    }
    long body = in.getUnsignedInt(start + 8);
    if (body > 1024) {
      throw new ReplyFormatException("a SASL Auth answer of " + body + " bytes");
    }
    if (in.readableBytes() < HEADER + body) {
      return false;
    }
    int status = in.getUnsignedShort(start + 6);
    in.skipBytes(HEADER + (int) body);
    return switch (status) {
      case STATUS_OK -> succeed(Boolean.TRUE);
      case STATUS_UNKNOWN_COMMAND -> succeed(Boolean.FALSE);
      case STATUS_AUTH_ERROR ->
          failWith(new AuthenticationException(node(), credentials.user(), null));
      default ->
          failWith(
              new AuthenticationException(
                  node(), credentials.user(), "status 0x" + Integer.toHexString(status)));
    };
  }
}
