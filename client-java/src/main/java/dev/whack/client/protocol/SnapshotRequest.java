package dev.whack.client.protocol;

import dev.whack.client.SnapshotTaken;
import io.netty.buffer.ByteBuf;

/**
 * {@code snapshot}: {@code SNAPSHOT <bytes> <records> <milliseconds>} once the node's snapshot is
 * on disk; {@code SERVER_ERROR ...} from a node without a data directory or when it fails.
 */
public final class SnapshotRequest extends LineRequest<SnapshotTaken> {
  public SnapshotRequest() {
    super(null, null);
  }

  @Override
  public String command() {
    return "snapshot";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, "snapshot\r\n");
  }

  @Override
  boolean parseLine(String line) {
    if (line.startsWith("SNAPSHOT ")) {
      String[] f = line.split(" ");
      if (f.length == 4) {
        try {
          return succeed(
              new SnapshotTaken(Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])));
        } catch (NumberFormatException e) {
          // falls through to a corrupt reply
        }
      }
    }
    return errorOrCorrupt(line);
  }
}
