package dev.whack.client.protocol;

import dev.whack.client.AuthenticationException;
import dev.whack.client.transport.Credentials;
import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * The first requests of a text connection with credentials (docs/protocol.md, "Authentication"), in
 * two steps so that a password is never sent to a node that does not ask for one (a node without an
 * auth file would store memcached's {@code set}-form authentication as an item):
 *
 * <ol>
 *   <li>{@link #probe}: {@code mn}. {@code MN} means the node checks no credentials (true: done);
 *       {@code CLIENT_ERROR unauthenticated}, that it does (false: authenticate).
 *   <li>{@link #authenticate}: {@code set auth 0 0 <n>\r\n<user> <password>\r\n}, as memcached
 *       1.6's {@code -Y}: {@code STORED} is true; {@code CLIENT_ERROR authentication failure} fails
 *       with {@link AuthenticationException}.
 * </ol>
 *
 * <p>Concurrency: as every {@link Request}.
 */
public final class AuthRequest extends LineRequest<Boolean> {
  private static final byte[] STORED = Lines.ascii("STORED\r\n");
  private static final byte[] MN = Lines.ascii("MN\r\n");
  private static final String UNAUTHENTICATED = "CLIENT_ERROR unauthenticated";

  private final Credentials credentials;
  private final boolean probe;

  private AuthRequest(Credentials credentials, boolean probe) {
    super(probe ? MN : STORED, Boolean.TRUE);
    this.credentials = credentials;
    this.probe = probe;
  }

  /** Asks whether the node wants credentials: true if it does not. */
  public static AuthRequest probe(Credentials credentials) {
    return new AuthRequest(credentials, true);
  }

  /** Sends the credentials: true once authenticated. */
  public static AuthRequest authenticate(Credentials credentials) {
    return new AuthRequest(credentials, false);
  }

  @Override
  public String command() {
    return probe ? "mn" : "authentication";
  }

  @Override
  public void encode(ByteBuf out) {
    if (probe) {
      Encode.word(out, "mn\r\n");
      return;
    }
    byte[] user = credentials.user().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] password = credentials.password();
    Encode.word(out, "set auth 0 0 ");
    Encode.number(out, user.length + 1L + password.length);
    Encode.crlf(out);
    out.writeBytes(user).writeByte(Encode.SPACE).writeBytes(password);
    Encode.crlf(out);
    Arrays.fill(password, (byte) 0);
  }

  @Override
  boolean parseLine(String line) {
    if (probe && line.equals(UNAUTHENTICATED)) {
      return succeed(Boolean.FALSE);
    }
    if (!probe && line.startsWith("CLIENT_ERROR ")) {
      return failWith(failed(line.substring("CLIENT_ERROR ".length())));
    }
    return errorOrCorrupt(line);
  }

  private AuthenticationException failed(String reply) {
    return new AuthenticationException(
        node(), credentials.user(), reply.equals("authentication failure") ? null : reply);
  }
}
