package dev.whack.node.protocol.ascii;

import io.netty.buffer.ByteBuf;

/**
 * One command line of the text protocol, copied out of the network buffer once and split into
 * space-separated tokens, the way memcached's {@code tokenize_command} does: only spaces separate,
 * runs of spaces count as one, and at most {@link #MAX_TOKENS} tokens are split (commands that take
 * more, such as a multi-key get, scan the rest of the line themselves).
 *
 * <p>Concurrency: one per connection, reused for every line.
 */
final class AsciiLine {
  static final int MAX_TOKENS = 24;
  private static final int SHRINK_ABOVE_BYTES = 64 * 1024;
  private static final int INITIAL_BYTES = 2048;

  byte[] bytes = new byte[INITIAL_BYTES];
  int length;
  final int[] tokenStart = new int[MAX_TOKENS];
  final int[] tokenEnd = new int[MAX_TOKENS];
  int tokenCount;

  /** True if the line holds more tokens than were split. */
  boolean moreTokens;

  /** Copies {@code length} bytes (without the newline) from {@code in} and tokenizes them. */
  void load(ByteBuf in, int lineLength) {
    if (bytes.length < lineLength
        || bytes.length > SHRINK_ABOVE_BYTES && lineLength < INITIAL_BYTES) {
      bytes = new byte[Math.max(INITIAL_BYTES, lineLength)];
    }
    in.getBytes(in.readerIndex(), bytes, 0, lineLength);
    // memcached drops one '\r' before the '\n', but never the only byte of a line.
    length = lineLength > 1 && bytes[lineLength - 1] == '\r' ? lineLength - 1 : lineLength;
    tokenize();
  }

  private void tokenize() {
    int count = 0;
    int i = 0;
    moreTokens = false;
    while (i < length) {
      while (i < length && bytes[i] == ' ') {
        i++;
      }
      if (i == length) {
        break;
      }
      if (count == MAX_TOKENS) {
        moreTokens = true;
        break;
      }
      int start = i;
      while (i < length && bytes[i] != ' ') {
        i++;
      }
      tokenStart[count] = start;
      tokenEnd[count] = i;
      count++;
    }
    tokenCount = count;
  }

  /** Drops the first token (a prefix such as {@code local}); the others move down by one. */
  void dropFirstToken() {
    System.arraycopy(tokenStart, 1, tokenStart, 0, tokenCount - 1);
    System.arraycopy(tokenEnd, 1, tokenEnd, 0, tokenCount - 1);
    tokenCount--;
  }

  int tokenLength(int index) {
    return tokenEnd[index] - tokenStart[index];
  }

  boolean tokenEquals(int index, byte[] expected) {
    int start = tokenStart[index];
    int len = tokenEnd[index] - start;
    if (len != expected.length) {
      return false;
    }
    for (int i = 0; i < len; i++) {
      if (bytes[start + i] != expected[i]) {
        return false;
      }
    }
    return true;
  }

  byte tokenByte(int index, int offset) {
    return bytes[tokenStart[index] + offset];
  }

  /** The token as a String, for rare paths such as stats arguments and error messages. */
  String token(int index) {
    return new String(
        bytes, tokenStart[index], tokenLength(index), java.nio.charset.StandardCharsets.ISO_8859_1);
  }
}
