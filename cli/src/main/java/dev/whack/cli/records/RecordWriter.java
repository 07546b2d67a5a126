package dev.whack.cli.records;

import com.google.protobuf.ByteString;
import dev.whack.node.engine.json.ProfileJson;
import dev.whack.proto.LoadRecord;
import dev.whack.proto.OpaqueItem;
import dev.whack.proto.Profile;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.zip.GZIPOutputStream;

/**
 * Writes load records, the form {@code whack dump} produces and {@code whack load} reads: NDJSON
 * lines {@code {"key":K,"profile":PROFILE_JSON}}, {@code {"key":K,"item":{...}}} and segment
 * definitions, or length-delimited {@code LoadRecord}s, gzipped when asked. Not thread-safe.
 */
public final class RecordWriter implements Closeable {
  private static final byte[] KEY = "{\"key\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PROFILE = ",\"profile\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] END = "}\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ITEM_VALUE =
      ",\"item\":{\"value\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ITEM_FLAGS = "\",\"flags\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ITEM_TTL = ",\"ttl\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ITEM_END = "}}\n".getBytes(StandardCharsets.US_ASCII);

  private final OutputStream out;
  private final OutputStream buffered;
  private final GZIPOutputStream gzip;
  private final CountingOutput counted;
  private final RecordFormat format;
  private final boolean closeUnderlying;
  private long records;
  private boolean finished;

  private RecordWriter(OutputStream raw, RecordFormat format, boolean gzip, boolean closeUnderlying)
      throws IOException {
    this.counted = new CountingOutput(raw);
    this.buffered = new BufferedOutputStream(counted, 1 << 20);
    this.gzip = gzip ? new GZIPOutputStream(buffered, 1 << 16) : null;
    this.out = gzip ? new BufferedOutputStream(this.gzip, 1 << 16) : buffered;
    this.format = format;
    this.closeUnderlying = closeUnderlying;
  }

  /**
   * @param path a file, or null for {@code stdout} (never closed)
   * @param gzip compress (for a file whose name ends in .gz, say)
   */
  public static RecordWriter open(
      String path, OutputStream stdout, RecordFormat format, boolean gzip) throws IOException {
    if (path == null || path.equals("-")) {
      return new RecordWriter(stdout, format, gzip, false);
    }
    return new RecordWriter(Files.newOutputStream(Path.of(path)), format, gzip, true);
  }

  /** Writes one profile record from its canonical Profile JSON. */
  public void profile(String key, byte[] json) throws IOException {
    if (format == RecordFormat.NDJSON) {
      out.write(KEY);
      writeJsonString(key);
      out.write(PROFILE);
      out.write(json);
      out.write(END);
    } else {
      Profile profile = ProfileJson.parse(json);
      LoadRecord.newBuilder().setKey(key).setProfile(profile).build().writeDelimitedTo(out);
    }
    records++;
  }

  /**
   * Writes one opaque item record: {@code {"key":K,"item":{"value":BASE64,"flags":F,"ttl":T}}} or a
   * {@code LoadRecord} with an {@code OpaqueItem}.
   *
   * @param flags the item's 32-bit flags, written unsigned
   * @param ttlSeconds seconds it has left, 0 for never
   */
  public void item(String key, byte[] value, int flags, long ttlSeconds) throws IOException {
    if (format == RecordFormat.NDJSON) {
      out.write(KEY);
      writeJsonString(key);
      out.write(ITEM_VALUE);
      out.write(Base64.getEncoder().encode(value));
      out.write(ITEM_FLAGS);
      out.write(Long.toString(Integer.toUnsignedLong(flags)).getBytes(StandardCharsets.US_ASCII));
      out.write(ITEM_TTL);
      out.write(Long.toString(ttlSeconds).getBytes(StandardCharsets.US_ASCII));
      out.write(ITEM_END);
    } else {
      LoadRecord.newBuilder()
          .setKey(key)
          .setItem(
              OpaqueItem.newBuilder()
                  .setValue(ByteString.copyFrom(value))
                  .setFlags(flags)
                  .setTtlSeconds(ttlSeconds))
          .build()
          .writeDelimitedTo(out);
    }
    records++;
  }

  /**
   * Writes one segment definition: {@code {"segment":{"name":N,"expression":E}}}. Not counted in
   * {@link #records()}, which counts profiles, updates and items.
   */
  public void segment(String name, String expression) throws IOException {
    if (format == RecordFormat.NDJSON) {
      out.write("{\"segment\":{\"name\":".getBytes(StandardCharsets.US_ASCII));
      writeJsonString(name);
      out.write(",\"expression\":".getBytes(StandardCharsets.US_ASCII));
      writeJsonText(expression);
      out.write("}}\n".getBytes(StandardCharsets.US_ASCII));
    } else {
      LoadRecord.newBuilder()
          .setSegment(
              dev.whack.proto.SegmentDefinition.newBuilder()
                  .setName(name)
                  .setExpression(expression))
          .build()
          .writeDelimitedTo(out);
    }
  }

  /** Any text as a JSON string (an expression may hold quotes, backslashes and newlines). */
  private void writeJsonText(String s) throws IOException {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    out.write(b.append('"').toString().getBytes(StandardCharsets.UTF_8));
  }

  /** Writes one update record from Update JSON bytes (NDJSON only). */
  public void update(String key, byte[] json) throws IOException {
    if (format != RecordFormat.NDJSON) {
      LoadRecord.newBuilder()
          .setKey(key)
          .setUpdate(dev.whack.node.engine.json.UpdateJson.parse(json))
          .build()
          .writeDelimitedTo(out);
    } else {
      out.write(KEY);
      writeJsonString(key);
      out.write(",\"update\":".getBytes(StandardCharsets.US_ASCII));
      out.write(json);
      out.write(END);
    }
    records++;
  }

  /**
   * A JSON string: keys hold no control characters (memcached keys), so only " and \ need escaping.
   */
  private void writeJsonString(String s) throws IOException {
    out.write('"');
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    int run = 0;
    for (int i = 0; i < b.length; i++) {
      byte x = b[i];
      if (x == '"' || x == '\\' || (x >= 0 && x < 0x20)) {
        out.write(b, run, i - run);
        if (x == '"' || x == '\\') {
          out.write('\\');
          out.write(x);
        } else {
          out.write(String.format("\\u%04x", x).getBytes(StandardCharsets.US_ASCII));
        }
        run = i + 1;
      }
    }
    out.write(b, run, b.length - run);
    out.write('"');
  }

  public long records() {
    return records;
  }

  /**
   * Bytes written to the file or stdout so far (compressed when gzipped, before the last flush).
   */
  public long bytesWritten() {
    return counted.count;
  }

  /**
   * Flushes everything and ends the gzip stream, so that {@link #bytesWritten} is final; nothing
   * may be written after it.
   */
  public void finish() throws IOException {
    if (finished) {
      return;
    }
    finished = true;
    out.flush();
    if (gzip != null) {
      gzip.finish(); // the trailer, without closing what is under it
    }
    buffered.flush();
  }

  /** Finishes, and closes the file (never stdout). */
  @Override
  public void close() throws IOException {
    finish();
    if (closeUnderlying) {
      out.close();
    }
  }

  /** Counts bytes on their way to the file; never closes stdout twice. */
  private static final class CountingOutput extends FilterOutputStream {
    volatile long count;

    CountingOutput(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }
}
