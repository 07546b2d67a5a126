package dev.whack.node.engine.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.whack.proto.LoadRecord;
import java.io.IOException;

/**
 * One NDJSON line of a load/dump stream: {@code {"key": K, "profile": PROFILE_JSON}} or {@code
 * {"key": K, "update": UPDATE_JSON}}.
 */
public final class RecordJson {
  private RecordJson() {}

  /**
   * @throws JsonFormatException with position and reason
   */
  public static LoadRecord parse(byte[] line, int offset, int length) {
    return JsonReading.parse(
        line,
        offset,
        length,
        p -> {
          p.nextToken();
          return read(p);
        });
  }

  private static LoadRecord read(JsonParser p) throws IOException {
    JsonReading.expect(p, JsonToken.START_OBJECT, "a record object");
    LoadRecord.Builder b = LoadRecord.newBuilder();
    boolean keyed = false;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String member = p.currentName();
      p.nextToken();
      switch (member) {
        case "key" -> {
          b.setKey(JsonReading.string(p, "\"key\""));
          keyed = true;
        }
        case "profile" -> {
          if (b.hasUpdate()) {
            throw JsonReading.fail(p, "a record has a profile or an update, not both");
          }
          b.setProfile(ProfileJson.read(p));
        }
        case "update" -> {
          if (b.hasProfile()) {
            throw JsonReading.fail(p, "a record has a profile or an update, not both");
          }
          b.setUpdate(UpdateJson.read(p));
        }
        default ->
            throw JsonReading.fail(
                p, "unknown record member \"" + member + "\" (expected key, profile, update)");
      }
    }
    if (!keyed || b.getBodyCase() == LoadRecord.BodyCase.BODY_NOT_SET) {
      throw JsonReading.fail(p, "a record needs \"key\" and one of \"profile\" or \"update\"");
    }
    return b.build();
  }

  public static byte[] write(LoadRecord record) {
    return JsonWriting.write(
        256,
        g -> {
          g.writeStartObject();
          g.writeStringField("key", record.getKey());
          if (record.hasProfile()) {
            g.writeFieldName("profile");
            ProfileJson.write(g, record.getProfile());
          } else {
            g.writeFieldName("update");
            UpdateJson.write(g, record.getUpdate());
          }
          g.writeEndObject();
        });
  }
}
