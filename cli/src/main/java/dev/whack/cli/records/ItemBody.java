package dev.whack.cli.records;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.whack.proto.OpaqueItem;
import java.io.IOException;
import java.util.Base64;

/**
 * The body of an item record, decoded: the value, its flags and the seconds it had left. Unlike a
 * profile or an update, which the node parses, an item's body is the loader's to read: the node is
 * sent a plain {@code set}.
 *
 * @param ttlSeconds seconds left when it was dumped, 0 for never
 */
public record ItemBody(byte[] value, int flags, long ttlSeconds) {
  private static final JsonFactory JSON = new JsonFactory();

  /**
   * Decodes {@code {"value":BASE64,"flags":F,"ttl":T}} (flags and ttl may be left out: 0) or an
   * {@code OpaqueItem}.
   *
   * @param where the record's place, for the error
   */
  public static ItemBody parse(Record record, String where) throws BadRecordException {
    try {
      ItemBody body = record.protobuf() ? fromProtobuf(record.body()) : fromJson(record.body());
      if (body.ttlSeconds < 0) {
        throw new IOException(
            "\"ttl\" is 0 (never expires) or the seconds left, got " + body.ttlSeconds);
      }
      return body;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new BadRecordException(where, "bad item: " + e.getOriginalMessage(), true);
    } catch (IOException | IllegalArgumentException e) {
      throw new BadRecordException(where, "bad item: " + e.getMessage(), true);
    }
  }

  private static ItemBody fromProtobuf(byte[] body) throws InvalidProtocolBufferException {
    OpaqueItem item = OpaqueItem.parseFrom(body);
    return new ItemBody(item.getValue().toByteArray(), item.getFlags(), item.getTtlSeconds());
  }

  private static ItemBody fromJson(byte[] body) throws IOException {
    byte[] value = null;
    long flags = 0;
    long ttl = 0;
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("an item is an object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken token = p.nextToken();
        switch (field) {
          case "value" -> {
            if (token != JsonToken.VALUE_STRING) {
              throw new IOException("\"value\" is a base64 string");
            }
            value = Base64.getDecoder().decode(p.getText());
          }
          case "flags" -> {
            flags = integer(p, token, "flags");
            if (flags > 0xffff_ffffL) {
              throw new IOException("\"flags\" is 0 to 4294967295, got " + flags);
            }
          }
          case "ttl" -> ttl = integer(p, token, "ttl");
          default ->
              throw new IOException(
                  "unknown item member \"" + field + "\" (expected value, flags, ttl)");
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new IOException("an item is one object");
      }
    }
    if (value == null) {
      throw new IOException("an item has a \"value\"");
    }
    return new ItemBody(value, (int) flags, ttl);
  }

  private static long integer(JsonParser p, JsonToken token, String name) throws IOException {
    if (token != JsonToken.VALUE_NUMBER_INT
        || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      throw new IOException("\"" + name + "\" is a whole number");
    }
    long n = p.getLongValue();
    if (n < 0) {
      throw new IOException("\"" + name + "\" is not negative, got " + n);
    }
    return n;
  }
}
