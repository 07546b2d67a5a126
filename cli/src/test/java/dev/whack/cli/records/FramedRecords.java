package dev.whack.cli.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the record fuzz targets check of a reader over arbitrary bytes: it gives records, each at a
 * position inside the stream, or {@link BadRecordException}s saying where (a line and column, or a
 * byte offset, inside the stream) and why, going on after a recoverable one and stopping after one
 * that is not; never anything else; and alike whether the stream delivers its bytes at once or a
 * few at a time.
 */
final class FramedRecords {
  private static final Pattern LINE = Pattern.compile("line (\\d+)(?:, column (\\d+))?");
  private static final Pattern OFFSET = Pattern.compile("offset (\\d+)");

  private FramedRecords() {}

  static void check(byte[] input, Function<InputStream, RecordReader> open) {
    String atOnce = readAll(input, open.apply(new ByteArrayInputStream(input)));
    String trickled = readAll(input, open.apply(trickle(input)));
    assertEquals(atOnce, trickled, () -> "read differently a few bytes at a time: " + show(input));
  }

  /** Every record and error of the stream, as text. */
  private static String readAll(byte[] input, RecordReader reader) {
    StringBuilder out = new StringBuilder();
    long lines = 1;
    for (byte b : input) {
      lines += b == '\n' ? 1 : 0;
    }
    // Each record or error takes at least one byte or line: more would mean the reader is stuck.
    for (int i = 0; i <= input.length + 1; i++) {
      try {
        Record r = reader.next();
        if (r == null) {
          return out.toString();
        }
        long at = r.position();
        long last = r.protobuf() ? input.length - 1 : lines;
        assertTrue(
            at >= (r.protobuf() ? 0 : 1) && at <= last,
            () -> "a record at " + at + ", outside: " + show(input));
        out.append(r.kind())
            .append(' ')
            .append(r.key())
            .append(' ')
            .append(at)
            .append(' ')
            .append(HexFormat.of().formatHex(r.body()))
            .append('\n');
      } catch (BadRecordException e) {
        assertInside(e.where(), input, lines);
        out.append("bad ").append(e.getMessage()).append('\n');
        if (!e.recoverable()) {
          return out.toString();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e); // a byte array cannot fail to read
      }
    }
    throw new AssertionError("the reader does not come to an end: " + show(input));
  }

  private static void assertInside(String where, byte[] input, long lines) {
    Matcher line = LINE.matcher(where);
    Matcher offset = OFFSET.matcher(where);
    if (line.matches()) {
      long n = Long.parseLong(line.group(1));
      assertTrue(n >= 1 && n <= lines, () -> "an error at " + where + ", outside: " + show(input));
      if (line.group(2) != null) {
        long column = Long.parseLong(line.group(2));
        assertTrue(
            column >= 1 && column <= input.length + 1,
            () -> "an error at " + where + ", outside: " + show(input));
      }
    } else if (offset.matches()) {
      long n = Long.parseLong(offset.group(1));
      assertTrue(
          n >= 0 && n <= input.length, () -> "an error at " + where + ", outside: " + show(input));
    } else {
      throw new AssertionError("an error that does not say where: " + where + " in " + show(input));
    }
  }

  /** The bytes 1 to 7 at a time, as a slow pipe or a gzip stream delivers them. */
  private static InputStream trickle(byte[] input) {
    Random random = new Random(Arrays.hashCode(input));
    return new ByteArrayInputStream(input) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        return super.read(b, off, Math.min(len, 1 + random.nextInt(7)));
      }
    };
  }

  static String show(byte[] input) {
    return HexFormat.of().formatHex(input, 0, Math.min(input.length, 256))
        + " ("
        + input.length
        + " bytes)";
  }
}
