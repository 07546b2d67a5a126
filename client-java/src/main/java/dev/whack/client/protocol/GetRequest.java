package dev.whack.client.protocol;

import dev.whack.client.Item;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code get <key>*}: a {@code VALUE <key> <flags> <bytes>} line and a data block per hit, in the
 * order the keys were asked, then {@code END}. A hit for a key not asked for, or out of order,
 * means the reply belongs to another request: the connection is out of step and must close.
 */
public final class GetRequest extends Request<Map<String, Item>> {
  private static final byte[] END = Lines.ascii("END\r\n");
  private final String[] keys;
  private final byte[][] keyBytes;
  private final Map<String, Item> hits = new LinkedHashMap<>();

  /** Hits must name keys at or after this index of {@link #keys}. */
  private int nextKey;

  private String pendingKey;
  private int pendingFlags;
  private int pendingLength = -1;

  /** Keys must be distinct and already checked by {@link Keys#key}. */
  public GetRequest(List<String> keys, List<byte[]> keyBytes) {
    if (keys.isEmpty() || keys.size() != keyBytes.size()) {
      throw new IllegalArgumentException("a get needs keys");
    }
    this.keys = keys.toArray(String[]::new);
    this.keyBytes = keyBytes.toArray(byte[][]::new);
  }

  @Override
  public String command() {
    return "get";
  }

  @Override
  public void encode(ByteBuf out) {
    Encode.word(out, "get");
    for (byte[] key : keyBytes) {
      out.writeByte(Encode.SPACE);
      out.writeBytes(key);
    }
    Encode.crlf(out);
  }

  @Override
  protected boolean parse(ByteBuf in) {
    while (true) {
      if (pendingLength >= 0) {
        byte[] data = Lines.readBlock(in, pendingLength);
        if (data == null) {
          return false;
        }
        hits.put(pendingKey, new Item(data, pendingFlags));
        pendingLength = -1;
        continue;
      }
      if (Lines.consume(in, END)) {
        return succeed(hits);
      }
      String line = Lines.readLine(in);
      if (line == null) {
        return false;
      }
      if (!line.startsWith("VALUE ")) {
        if (nextKey == 0 && hits.isEmpty()) {
          return errorOrCorrupt(line);
        }
        throw unexpected(line);
      }
      String[] tokens = line.split(" ", -1);
      if (tokens.length != 4 && tokens.length != 5) {
        throw unexpected(line);
      }
      pendingKey = matchKey(tokens[1], line);
      pendingFlags = Lines.flags(tokens[2], line);
      pendingLength = Lines.blockLength(tokens[3], line);
    }
  }

  private String matchKey(String key, String line) {
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    for (int i = nextKey; i < keyBytes.length; i++) {
      if (Arrays.equals(keyBytes[i], bytes)) {
        nextKey = i + 1;
        return keys[i];
      }
    }
    throw new ReplyFormatException(
        "a get reply for a key not asked for (or out of order): " + line);
  }
}
