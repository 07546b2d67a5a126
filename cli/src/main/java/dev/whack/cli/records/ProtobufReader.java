package dev.whack.cli.records;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads length-delimited {@code whack.v1.LoadRecord} messages (a varint length, then the message,
 * as {@code writeDelimitedTo} writes them). Each record is framed without building messages: its
 * key (field 1) is read and its body (field 2 Profile, 3 Update, 4 SegmentDefinition or 5
 * OpaqueItem) is cut out as bytes, which the node (or, for the last two, the loader) parses. As in
 * protobuf, unknown fields are skipped and of two bodies the last one counts. A record without a
 * key takes the key inside its body ({@code Profile.key}, {@code Update.key}).
 *
 * <p>A record that does not parse is reported with its byte offset in the uncompressed stream and
 * the reader goes on after it; a broken length prefix or a stream cut short cannot be read past.
 */
public final class ProtobufReader implements RecordReader {
  /** Far above any record a node would accept; a larger length means a corrupt stream. */
  public static final int MAX_RECORD_BYTES = 64 * 1024 * 1024;

  private static final int CHUNK_BYTES = 1 << 20;
  private static final int KEY = 1;
  private static final int PROFILE = 2;
  private static final int UPDATE = 3;
  private static final int SEGMENT = 4;
  private static final int ITEM = 5;

  private final InputStream in;
  private byte[] buf = new byte[2 * CHUNK_BYTES];
  private int start;
  private int end;
  private boolean eof;

  /** Stream offset of buf[0]. */
  private long base;

  public ProtobufReader(InputStream in) {
    this.in = in;
  }

  @Override
  public Record next() throws IOException, BadRecordException {
    long offset = base + start;
    // The varint length: at most 5 bytes.
    if (!available(1)) {
      return null;
    }
    available(5);
    int length = 0;
    int shift = 0;
    int i = start;
    while (true) {
      if (i >= end) {
        throw new BadRecordException(
            "offset " + offset, "the stream ends inside a record's length", false);
      }
      byte x = buf[i++];
      if (shift == 28 && (x & 0xf0) != 0) {
        throw new BadRecordException(
            "offset " + offset, "a record length over 2^32 (corrupt stream?)", false);
      }
      length |= (x & 0x7f) << shift;
      if (x >= 0) {
        break;
      }
      shift += 7;
    }
    if (length < 0 || length > MAX_RECORD_BYTES) {
      throw new BadRecordException(
          "offset " + offset,
          "a record length of "
              + Integer.toUnsignedString(length)
              + " bytes, over the "
              + MAX_RECORD_BYTES
              + " limit (corrupt stream?)",
          false);
    }
    int header = i - start;
    if (!available(header + length)) {
      throw new BadRecordException(
          "offset " + offset,
          "the stream ends inside a record ("
              + length
              + " bytes announced, "
              + (end - start - header)
              + " there)",
          false);
    }
    int messageAt = start + header;
    start = messageAt + length;
    return frame(buf, messageAt, length, offset);
  }

  @Override
  public String where(long position) {
    return "offset " + position;
  }

  private static Record frame(byte[] b, int at, int length, long offset) throws BadRecordException {
    String key = null;
    byte[] body = null;
    Record.Kind kind = null;
    try {
      CodedInputStream c = CodedInputStream.newInstance(b, at, length);
      while (true) {
        int tag = c.readTag();
        if (tag == 0) {
          break;
        }
        int field = WireFormat.getTagFieldNumber(tag);
        boolean delimited = WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
        if (field == KEY && delimited) {
          key = c.readStringRequireUtf8();
        } else if ((field == PROFILE || field == UPDATE) && delimited) {
          body = c.readByteArray();
          kind = field == PROFILE ? Record.Kind.PROFILE : Record.Kind.UPDATE;
        } else if (field == SEGMENT && delimited) {
          body = c.readByteArray();
          kind = Record.Kind.SEGMENT;
        } else if (field == ITEM && delimited) {
          body = c.readByteArray();
          kind = Record.Kind.ITEM;
        } else if (!c.skipField(tag)) {
          break;
        }
      }
      if (body == null) {
        throw new BadRecordException(
            "offset " + offset, "a record needs a profile, an update or an item", true);
      }
      if (kind == Record.Kind.SEGMENT) {
        return new Record("", kind, true, body, offset);
      }
      if ((key == null || key.isEmpty()) && kind != Record.Kind.ITEM) {
        key = innerKey(body);
      }
    } catch (IOException e) {
      throw new BadRecordException("offset " + offset, "not a LoadRecord: " + e.getMessage(), true);
    }
    if (key == null || key.isEmpty()) {
      throw new BadRecordException("offset " + offset, "a record needs a key", true);
    }
    return new Record(key, kind, true, body, offset);
  }

  /** Field 1 of a Profile or an Update is its key. */
  private static String innerKey(byte[] body) throws InvalidProtocolBufferException {
    String key = null;
    try {
      CodedInputStream c = CodedInputStream.newInstance(body);
      while (true) {
        int tag = c.readTag();
        if (tag == 0) {
          return key;
        }
        if (WireFormat.getTagFieldNumber(tag) == KEY
            && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
          key = c.readStringRequireUtf8();
        } else if (!c.skipField(tag)) {
          return key;
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw e;
    } catch (IOException e) {
      throw new InvalidProtocolBufferException(e.getMessage());
    }
  }

  /**
   * True once {@code n} bytes from {@code start} are in the buffer; false if the stream ends first.
   */
  private boolean available(int n) throws IOException {
    while (end - start < n) {
      if (eof) {
        return false;
      }
      if (buf.length - start < n || buf.length - end < CHUNK_BYTES / 4) {
        int need = n + CHUNK_BYTES / 2;
        byte[] target = buf.length >= need ? buf : new byte[need];
        System.arraycopy(buf, start, target, 0, end - start);
        base += start;
        end -= start;
        start = 0;
        buf = target;
      }
      int r = in.read(buf, end, buf.length - end);
      if (r < 0) {
        eof = true;
      } else {
        end += r;
      }
    }
    return true;
  }
}
