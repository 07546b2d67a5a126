package dev.whack.cli.records;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Reads NDJSON records from a stream in large chunks, finding line ends eight bytes at a time and
 * framing each line with {@link NdjsonEnvelope}. Blank lines are skipped; the last line may lack
 * its newline. A bad line is reported with its number and the reader goes on at the next one.
 */
public final class NdjsonReader implements RecordReader {
  /** Lines longer than this cannot be a record of a profile within the node's item limit. */
  public static final int MAX_LINE_BYTES = 64 * 1024 * 1024;

  private static final int CHUNK_BYTES = 1 << 20;
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private final InputStream in;
  private byte[] buf = new byte[2 * CHUNK_BYTES];
  private int start;
  private int end;
  private int scanFrom;
  private boolean eof;
  private long line;

  public NdjsonReader(InputStream in) {
    this.in = in;
  }

  @Override
  public Record next() throws IOException, BadRecordException {
    while (true) {
      int nl = indexOfNewline(buf, scanFrom, end);
      int lineEnd;
      if (nl >= 0) {
        lineEnd = nl;
      } else if (!eof) {
        fill();
        continue;
      } else if (start < end) {
        lineEnd = end; // the last line, without a newline
      } else {
        return null;
      }
      int lineStart = start;
      start = Math.min(lineEnd + 1, end);
      scanFrom = start;
      line++;
      Record r = NdjsonEnvelope.parse(buf, lineStart, lineEnd, line);
      if (r != null) {
        return r;
      }
    }
  }

  @Override
  public String where(long position) {
    return "line " + position;
  }

  /** Reads more: moves the partial line to the front, grows the buffer for a long line. */
  private void fill() throws IOException, BadRecordException {
    scanFrom = end;
    if (start > 0 && (end - start) < buf.length / 2) {
      System.arraycopy(buf, start, buf, 0, end - start);
      end -= start;
      scanFrom -= start;
      start = 0;
    }
    if (buf.length - end < CHUNK_BYTES / 2) {
      if (end - start >= MAX_LINE_BYTES) {
        throw new BadRecordException(
            "line " + (line + 1), "longer than " + MAX_LINE_BYTES + " bytes", false);
      }
      byte[] bigger = new byte[Math.min(buf.length * 2, MAX_LINE_BYTES + CHUNK_BYTES)];
      System.arraycopy(buf, start, bigger, 0, end - start);
      end -= start;
      scanFrom -= start;
      start = 0;
      buf = bigger;
    }
    int n = in.read(buf, end, buf.length - end);
    if (n < 0) {
      eof = true;
    } else {
      end += n;
    }
  }

  /**
   * The index of the first '\n' in [from, to), or -1. Eight bytes at a time: a byte of {@code w ^
   * 0x0a...} is zero where w has a newline, and the lowest zero byte is found exactly by the
   * has-zero-byte trick (its false positives only ever sit above a true zero).
   */
  static int indexOfNewline(byte[] b, int from, int to) {
    int i = from;
    for (; i + 8 <= to; i += 8) {
      long x = (long) LONGS.get(b, i) ^ 0x0a0a0a0a0a0a0a0aL;
      long t = (x - 0x0101010101010101L) & ~x & 0x8080808080808080L;
      if (t != 0) {
        return i + (Long.numberOfTrailingZeros(t) >>> 3);
      }
    }
    for (; i < to; i++) {
      if (b[i] == '\n') {
        return i;
      }
    }
    return -1;
  }
}
