package dev.whack.cli.records;

import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * One load input opened for reading: gzip recognised by its magic bytes (0x1f 0x8b) whatever the
 * file is called, the record format recognised from the first bytes (or given), and a count of the
 * bytes read from the file itself, compressed or not, for progress against its size.
 */
public final class Input implements Closeable {
  private static final int SNIFF_BYTES = 64;

  private final String name;
  private final long sizeBytes;
  private final boolean gzip;
  private final RecordFormat format;
  private final CountingStream raw;
  private final InputStream decoded;
  private final RecordReader reader;

  private Input(
      String name,
      long sizeBytes,
      boolean gzip,
      RecordFormat format,
      CountingStream raw,
      InputStream decoded) {
    this.name = name;
    this.sizeBytes = sizeBytes;
    this.gzip = gzip;
    this.format = format;
    this.raw = raw;
    this.decoded = decoded;
    this.reader =
        format == RecordFormat.NDJSON ? new NdjsonReader(decoded) : new ProtobufReader(decoded);
  }

  /**
   * @param path a file, or {@code -} for {@code stdin}
   * @param format the format, or null to recognise it
   */
  public static Input open(String path, InputStream stdin, RecordFormat format) throws IOException {
    boolean isStdin = path.equals("-");
    long size = isStdin ? -1 : Files.size(Path.of(path));
    InputStream file = isStdin ? stdin : Files.newInputStream(Path.of(path));
    try {
      CountingStream raw = new CountingStream(file);
      PushbackInputStream magic = new PushbackInputStream(raw, 2);
      byte[] two = new byte[2];
      int n = readFully(magic, two, 2);
      if (n > 0) {
        magic.unread(two, 0, n);
      }
      boolean gzip = n == 2 && (two[0] & 0xff) == 0x1f && (two[1] & 0xff) == 0x8b;
      InputStream decoded = gzip ? new GZIPInputStream(magic, 1 << 16) : magic;
      PushbackInputStream head = new PushbackInputStream(decoded, SNIFF_BYTES);
      byte[] first = new byte[SNIFF_BYTES];
      int got = readFully(head, first, SNIFF_BYTES);
      if (got > 0) {
        head.unread(first, 0, got);
      }
      RecordFormat f = format != null ? format : RecordFormat.sniff(first, Math.max(got, 0));
      return new Input(isStdin ? "stdin" : path, size, gzip, f, raw, head);
    } catch (IOException | RuntimeException e) {
      if (!isStdin) {
        file.close();
      }
      throw e;
    }
  }

  private static int readFully(InputStream in, byte[] b, int n) throws IOException {
    int got = 0;
    while (got < n) {
      int r = in.read(b, got, n - got);
      if (r < 0) {
        return got == 0 ? -1 : got;
      }
      got += r;
    }
    return got;
  }

  public String name() {
    return name;
  }

  /** The file's size in bytes (compressed if it is gzip), or -1 for stdin. */
  public long sizeBytes() {
    return sizeBytes;
  }

  /** Bytes read from the file so far (compressed if it is gzip). Any thread. */
  public long bytesRead() {
    return raw.count;
  }

  public boolean gzip() {
    return gzip;
  }

  public RecordFormat format() {
    return format;
  }

  public RecordReader reader() {
    return reader;
  }

  @Override
  public void close() throws IOException {
    if (!name.equals("stdin")) {
      decoded.close();
    }
  }

  /** Counts what is read through it; the count is read by the progress thread. */
  private static final class CountingStream extends FilterInputStream {
    volatile long count;

    CountingStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long s = super.skip(n);
      count += s;
      return s;
    }
  }
}
