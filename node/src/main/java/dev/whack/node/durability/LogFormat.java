package dev.whack.node.durability;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The layout of log and snapshot files. A file starts with a 16-byte header (the magic {@code
 * WHACKLOG} or {@code WHACKSNP}, the format version, four reserved bytes) and holds records one
 * after another:
 *
 * <pre>
 * u32 length     bytes of the body (at least {@link #BODY_OVERHEAD}, at most {@link #MAX_BODY})
 * u32 crc32c     of the body
 * body:  u8 type, u64 sequence, payload (length - 9 bytes)
 * </pre>
 *
 * Numbers are big-endian. The checksum covers type, sequence and payload, so a record torn by a
 * crash (a length written, the body not) or damaged on disk is detected before any of it is used.
 */
final class LogFormat {
  static final byte[] MAGIC = "WHACKLOG".getBytes(StandardCharsets.US_ASCII);
  static final byte[] SNAPSHOT_MAGIC = "WHACKSNP".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int FILE_HEADER = 16;

  /** Length and checksum before each body. */
  static final int RECORD_HEADER = 8;

  /** Type and sequence at the start of each body. */
  static final int BODY_OVERHEAD = 9;

  /** The largest body: a 64 MiB item (the biggest --max-item-size) and room for its key. */
  static final int MAX_BODY = (64 << 20) + 4096;

  private LogFormat() {}

  static ByteBuffer fileHeader(byte[] magic) {
    ByteBuffer b = ByteBuffer.allocate(FILE_HEADER).order(ByteOrder.BIG_ENDIAN);
    b.put(magic).putInt(VERSION).putInt(0).flip();
    return b;
  }

  /** The big-endian u32 at {@code at}, as records and their headers hold numbers. */
  static int intAt(byte[] b, int at) {
    return (b[at] & 0xff) << 24
        | (b[at + 1] & 0xff) << 16
        | (b[at + 2] & 0xff) << 8
        | (b[at + 3] & 0xff);
  }

  static int crc(byte[] b, int off, int len) {
    CRC32C crc = new CRC32C();
    crc.update(b, off, len);
    return (int) crc.getValue();
  }
}
