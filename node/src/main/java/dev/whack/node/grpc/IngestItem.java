package dev.whack.node.grpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.whack.proto.IngestRequest;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One item of an {@code IngestRequest} (its own, or one of its {@code items}) as the node reads it:
 * its id, what it carries, and that item's bytes as they came, never made into protobuf-java
 * objects. The engine reads an {@code Update} or {@code Profile} from its bytes itself (as for the
 * memcached port's {@code update ... proto}), so parsing the request into objects and writing the
 * item back to bytes would only make garbage: on the Ingest path that was a third of the node's
 * time per update.
 *
 * @param message the whole request's bytes; the item is {@code [offset, offset + length)}
 * @param key the item's key (field 1 of an Update or a Profile), or null when it carries none
 * @param request the request it came in, whose place in the stream's window is given back once all
 *     its items are answered
 */
record IngestItem(
    long id, Kind kind, byte[] message, int offset, int length, byte[] key, Request request) {
  /** One request's items not yet answered; changed under the stream's lock. */
  static final class Request {
    int unanswered;
  }

  enum Kind {
    NONE,
    UPDATE,
    PROFILE
  }

  private static final int ID = 1;
  private static final int UPDATE = 2;
  private static final int PROFILE = 3;
  private static final int ITEMS = 4;
  private static final int KEY = 1;

  /** Items one request may carry; a request of more is refused whole. */
  static final int MAX_ITEMS_PER_REQUEST = 10_000;

  /** The item's bytes, as a request of its own would carry them. */
  byte[] body() {
    return java.util.Arrays.copyOfRange(message, offset, offset + length);
  }

  /**
   * Reads a request's bytes into its items: its own (when it has one, or when it has no other),
   * then those of {@code items}, in order. Of an item carried twice in one place, the last is read,
   * as protobuf merges a oneof.
   *
   * @throws IOException when the bytes are not a protobuf message, or carry too many items
   */
  static List<IngestItem> read(byte[] message) throws IOException {
    Request request = new Request();
    List<IngestItem> batch = new ArrayList<>(1);
    IngestItem own = readOne(message, 0, message.length, true, batch, request);
    if (own.kind() != Kind.NONE || batch.isEmpty()) {
      batch.add(0, own);
    }
    request.unanswered = batch.size();
    return batch;
  }

  /**
   * Reads one item from {@code [from, from + length)}; with {@code nested}, the {@code items} found
   * there are read into {@code batch}.
   */
  private static IngestItem readOne(
      byte[] message, int from, int length, boolean nested, List<IngestItem> batch, Request request)
      throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(message, from, length);
    long id = 0;
    Kind kind = Kind.NONE;
    int offset = 0;
    int size = 0;
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      int field = WireFormat.getTagFieldNumber(tag);
      int type = WireFormat.getTagWireType(tag);
      if (field == ID && type == WireFormat.WIRETYPE_VARINT) {
        id = in.readUInt64();
      } else if (type == WireFormat.WIRETYPE_LENGTH_DELIMITED
          && (field == UPDATE || field == PROFILE || (nested && field == ITEMS))) {
        int length2 = in.readRawVarint32();
        int start = from + in.getTotalBytesRead();
        if (length2 < 0 || start + length2 > from + length) {
          throw new IOException("an item runs past the end of its request");
        }
        in.skipRawBytes(length2);
        if (field == ITEMS) {
          if (batch.size() == MAX_ITEMS_PER_REQUEST) {
            throw new IOException("more than " + MAX_ITEMS_PER_REQUEST + " items in one request");
          }
          batch.add(readOne(message, start, length2, false, null, request));
        } else {
          kind = field == UPDATE ? Kind.UPDATE : Kind.PROFILE;
          offset = start;
          size = length2;
        }
      } else if (!in.skipField(tag)) {
        break;
      }
    }
    byte[] key = kind == Kind.NONE ? null : keyOf(message, offset, size);
    return new IngestItem(id, kind, message, offset, size, key, request);
  }

  /** Field 1 of the item (the last, if repeated), or an empty key when it has none. */
  private static byte[] keyOf(byte[] message, int offset, int length) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(message, offset, length);
    byte[] key = new byte[0];
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        return key;
      }
      if (WireFormat.getTagFieldNumber(tag) == KEY
          && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        key = in.readByteArray();
      } else if (!in.skipField(tag)) {
        return key;
      }
    }
  }

  /**
   * Ingest's method with requests read as {@link IngestItem}s (replies stay protobuf objects). A
   * request that is not protobuf fails the call with INVALID_ARGUMENT, as grpc-java's own
   * marshaller would; one that is but carries no item is answered as such, by id.
   */
  static MethodDescriptor<List<IngestItem>, dev.whack.proto.IngestReply> method(
      MethodDescriptor<IngestRequest, dev.whack.proto.IngestReply> generated) {
    return generated.toBuilder(MARSHALLER, generated.getResponseMarshaller()).build();
  }

  /**
   * The message's bytes in one array of their size: gRPC's stream knows its length ({@link
   * io.grpc.KnownLength}), where {@code readAllBytes} would fill and copy 8 KiB buffers per
   * message.
   */
  private static byte[] bytesOf(InputStream stream) throws IOException {
    if (!(stream instanceof io.grpc.KnownLength)) {
      return stream.readAllBytes();
    }
    byte[] bytes = new byte[stream.available()];
    int read = stream.readNBytes(bytes, 0, bytes.length);
    if (read != bytes.length || stream.read() != -1) {
      throw new IOException("the message's length changed while it was read");
    }
    return bytes;
  }

  private static final MethodDescriptor.Marshaller<List<IngestItem>> MARSHALLER =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(List<IngestItem> items) {
          // The node never sends requests; here for completeness (a test client could).
          return new ByteArrayInputStream(items.get(0).message());
        }

        @Override
        public List<IngestItem> parse(InputStream stream) {
          try {
            return read(bytesOf(stream));
          } catch (IOException e) {
            throw Status.INVALID_ARGUMENT
                .withDescription("not an IngestRequest: " + e.getMessage())
                .withCause(e)
                .asRuntimeException();
          } catch (UncheckedIOException e) {
            throw Status.INTERNAL.withCause(e).asRuntimeException();
          }
        }
      };
}
