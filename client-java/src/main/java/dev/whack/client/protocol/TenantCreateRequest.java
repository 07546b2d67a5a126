package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;

/**
 * {@code tenant create <name> memory=<bytes> segments=<n> rate=<n>}: {@code CREATED}; a bad name, a
 * taken one or a bad quota is a {@code CLIENT_ERROR}, a node that cannot have tenants answers a
 * {@code SERVER_ERROR}.
 */
public final class TenantCreateRequest extends LineRequest<Boolean> {
  private static final byte[] CREATED = Lines.ascii("CREATED\r\n");
  private final String line;

  public TenantCreateRequest(String name, long memoryBytes, int segments, long requestsPerSecond) {
    super(CREATED, Boolean.TRUE);
    if (memoryBytes < 0 || segments < 0 || requestsPerSecond < 0) {
      throw new IllegalArgumentException("a quota is 0 (no limit) or positive");
    }
    this.line =
        "tenant create "
            + Keys.tenantName(name)
            + " memory="
            + memoryBytes
            + " segments="
            + segments
            + " rate="
            + requestsPerSecond
            + "\r\n";
  }

  @Override
  public String command() {
    return "tenant create";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, line);
  }

  @Override
  boolean parseLine(String line) {
    return errorOrCorrupt(line);
  }
}
