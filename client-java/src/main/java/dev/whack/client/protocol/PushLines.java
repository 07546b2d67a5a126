package dev.whack.client.protocol;

import dev.whack.client.SegmentChange;
import io.netty.buffer.ByteBuf;
import java.time.Instant;

/** Reads the {@link PushLine}s of a watching connection. */
public final class PushLines {
  private static final byte[] CHANGE = Lines.ascii("CHANGE ");
  private static final byte[] MISSED = Lines.ascii("MISSED ");

  private PushLines() {}

  /**
   * Reads a push line at the reader index: the line (consumed), {@link PushLine#NOT_A_PUSH}
   * (nothing consumed), or null when too few bytes are there to tell or the line is incomplete.
   */
  public static PushLine read(ByteBuf in) {
    boolean change = startsWith(in, CHANGE);
    boolean missed = !change && startsWith(in, MISSED);
    if (!change && !missed) {
      return couldStillBe(in) ? null : PushLine.NOT_A_PUSH;
    }
    String line = Lines.readLine(in);
    if (line == null) {
      return null;
    }
    String[] t = line.split(" ", -1);
    if (missed) {
      if (t.length != 2) {
        throw new ReplyFormatException("a bad MISSED line: " + line);
      }
      return new PushLine.Missed(Lines.nonNegativeLong(t[1], line));
    }
    if (t.length != 5 || t[2].isEmpty() || t[3].isEmpty()) {
      throw new ReplyFormatException("a bad CHANGE line: " + line);
    }
    SegmentChange.Kind kind =
        switch (t[1]) {
          case "enter" -> SegmentChange.Kind.ENTER;
          case "leave" -> SegmentChange.Kind.LEAVE;
          default -> throw new ReplyFormatException("a bad CHANGE line: " + line);
        };
    return new PushLine.Change(
        t[2], Keys.unescape(t[3]), kind, Instant.ofEpochMilli(Lines.nonNegativeLong(t[4], line)));
  }

  private static boolean startsWith(ByteBuf in, byte[] prefix) {
    if (in.readableBytes() < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (in.getByte(in.readerIndex() + i) != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** Fewer bytes than a prefix, and all of them match the start of one. */
  private static boolean couldStillBe(ByteBuf in) {
    int n = in.readableBytes();
    if (n >= CHANGE.length) {
      return false;
    }
    return prefixOf(in, n, CHANGE) || prefixOf(in, n, MISSED);
  }

  private static boolean prefixOf(ByteBuf in, int n, byte[] literal) {
    for (int i = 0; i < n; i++) {
      if (in.getByte(in.readerIndex() + i) != literal[i]) {
        return false;
      }
    }
    return true;
  }
}
