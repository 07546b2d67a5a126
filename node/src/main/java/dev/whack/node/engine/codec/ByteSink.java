package dev.whack.node.engine.codec;

import java.util.Arrays;

/**
 * A growable byte buffer for encoding profiles; reused per thread so that steady-state encoding
 * allocates only the final exact-size array.
 *
 * <p>Concurrency: not thread-safe; each instance belongs to one thread at a time.
 */
public final class ByteSink {
  private byte[] buf;
  private int size;

  public ByteSink(int initialCapacity) {
    buf = new byte[Math.max(16, initialCapacity)];
  }

  public void clear() {
    size = 0;
  }

  /**
   * Writes into {@code target} from its start from now on (an exact-size array the caller hands out
   * afterwards, so nothing is copied); a write beyond its end moves to a larger copy, which the
   * caller detects as {@code size() != target.length}.
   */
  public void wrap(byte[] target) {
    buf = target;
    size = 0;
  }

  /** Bytes {@link #writeVarint} takes for {@code v}. */
  public static int varintSize(long v) {
    return (63 - Long.numberOfLeadingZeros(v | 1)) / 7 + 1;
  }

  public int size() {
    return size;
  }

  public byte[] array() {
    return buf;
  }

  public byte[] toArray() {
    return Arrays.copyOf(buf, size);
  }

  private void ensure(int extra) {
    if (size + extra > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + extra));
    }
  }

  public void writeByte(int b) {
    ensure(1);
    buf[size++] = (byte) b;
  }

  public void writeBytes(byte[] src, int off, int len) {
    ensure(len);
    System.arraycopy(src, off, buf, size, len);
    size += len;
  }

  public void writeVarint(long v) {
    if (size + 10 > buf.length) {
      ensure(varintSize(v)); // exactly: an exact-size array must not be outgrown near its end
    }
    while ((v & ~0x7FL) != 0) {
      buf[size++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    buf[size++] = (byte) v;
  }

  public void writeZigzag(long v) {
    writeVarint((v << 1) ^ (v >> 63));
  }

  public void writeDouble(double d) {
    writeFixed64(Double.doubleToRawLongBits(d));
  }

  public void writeFixed64(long v) {
    ensure(8);
    for (int i = 0; i < 8; i++) {
      buf[size++] = (byte) (v >>> (8 * i));
    }
  }

  /** Writes a varint length and the UTF-8 bytes of {@code s}. */
  public void writeString(String s) {
    int n = s.length();
    boolean ascii = true;
    for (int i = 0; i < n; i++) {
      if (s.charAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      writeVarint(n);
      ensure(n);
      for (int i = 0; i < n; i++) {
        buf[size++] = (byte) s.charAt(i);
      }
    } else {
      byte[] utf8 = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      writeVarint(utf8.length);
      writeBytes(utf8, 0, utf8.length);
    }
  }
}
