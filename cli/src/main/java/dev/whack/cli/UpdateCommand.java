package dev.whack.cli;

import dev.whack.cli.output.JsonOut;
import dev.whack.client.UpdateResult;
import dev.whack.client.WhackClient;
import dev.whack.node.engine.json.JsonFormatException;
import dev.whack.node.engine.json.UpdateJson;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whack update KEY UPDATE_JSON}: a partial update, applied atomically. */
@Command(
    name = "update",
    mixinStandardHelpOptions = true,
    description = {
      "Apply a partial update to a profile atomically (creating an empty profile if KEY is",
      "absent), in the order set, unset, incr, add, remove, events. Prints 'updated', or",
      "'ignored' when the update's producer and seq were already applied (exit 0 either way).",
      "An update the node rejects exits 1 with its reason, and nothing of it is applied."
    },
    footer = {
      "",
      "UPDATE_JSON (every part optional):",
      "  {\"set\": {\"country\": \"DK\"}, \"unset\": [\"trial_ends\"], \"incr\": {\"visits\": 1},",
      "   \"add\": {\"tags\": [\"vip\"]}, \"remove\": {\"tags\": [\"trial\"]},",
      "   \"events\": [{\"name\": \"buy\", \"value\": 49.5, \"time\": \"2026-11-20T10:00:00Z\"}],",
      "   \"producer\": \"shop-1\", \"seq\": 42}",
      "",
      "Examples:",
      "  whack update user:42 '{\"incr\":{\"visits\":1}}'",
      "  whack update user:42 '{\"events\":[{\"name\":\"purchase\",\"value\":49.5}]}'",
      "  whack update user:42 @update.json",
      "  whack update user:42 '{\"add\":{\"tags\":[\"vip\"]},\"producer\":\"crm\",\"seq\":7}'"
    })
final class UpdateCommand extends ClientCommand {
  @Parameters(index = "0", paramLabel = "KEY", description = "the profile's key")
  String key;

  @Parameters(
      index = "1",
      paramLabel = "UPDATE_JSON",
      description = "the update, or @FILE to read it from a file, @- from stdin")
  String update;

  @Option(names = "--proto", description = "send it as a protobuf Update")
  boolean proto;

  @Option(names = "--json", description = "print {\"key\":...,\"result\":\"updated\"|\"ignored\"}")
  boolean json;

  @Override
  public Integer call() {
    String text = jsonArgument(update);
    if (!isJsonObject(text)) {
      throw CliException.failed("bad update: Update JSON is an object, starting with '{'");
    }
    UpdateResult result;
    try (WhackClient client = connect()) {
      if (proto) {
        byte[] body;
        try {
          body = UpdateJson.parse(text.getBytes(StandardCharsets.UTF_8)).toByteArray();
        } catch (JsonFormatException e) {
          throw CliException.failed("bad update: " + e.getMessage());
        }
        result = client.blocking().updateProtobuf(key, body);
      } else {
        result = client.blocking().update(key, text);
      }
    }
    String word = result.name().toLowerCase(Locale.ROOT);
    if (json) {
      JsonOut.print(
          out(),
          g -> {
            g.writeStartObject();
            g.writeStringField("key", key);
            g.writeStringField("result", word);
            g.writeEndObject();
          });
    } else if (result == UpdateResult.IGNORED) {
      out().println("ignored " + key + " (its producer's seq was already applied)");
    } else {
      out().println("updated " + key);
    }
    return Whack.EXIT_OK;
  }
}
