package dev.whack.cli;

import dev.whack.cli.output.JsonOut;
import dev.whack.client.WhackClient;
import dev.whack.node.engine.json.JsonFormatException;
import dev.whack.node.engine.json.ProfileJson;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whack set KEY PROFILE_JSON}: replaces a whole profile. */
@Command(
    name = "set",
    mixinStandardHelpOptions = true,
    description = {
      "Store a whole profile under KEY, replacing what was there (attributes, event series and",
      "producer marks are exactly those given). The profile is re-evaluated against every",
      "segment before the command returns. A profile the node rejects exits 1 with its reason."
    },
    footer = {
      "",
      "PROFILE_JSON is an object of attributes: strings, integers, floats, booleans, timestamps",
      "(\"2026-11-20T10:00:00Z\") and string sets ([\"vip\",\"newsletter\"]); see docs/profiles.md.",
      "",
      "Examples:",
      "  whack set user:42 '{\"country\":\"DK\",\"age\":31,\"tags\":[\"vip\"]}'",
      "  whack set user:42 @profile.json",
      "  curl -s https://example.test/p/42 | whack set user:42 @-",
      "  whack set session:9 '{\"step\":3}' --expiry 3600"
    })
final class SetCommand extends ClientCommand {
  @Parameters(index = "0", paramLabel = "KEY", description = "the profile's key")
  String key;

  @Parameters(
      index = "1",
      paramLabel = "PROFILE_JSON",
      description = "the profile, or @FILE to read it from a file, @- from stdin")
  String profile;

  @Option(
      names = "--expiry",
      paramLabel = "SECONDS",
      description =
          "expire the profile: up to 30 days relative seconds, beyond a Unix time (default: never)")
  int expiry;

  @Option(names = "--proto", description = "store it as a protobuf Profile (flags 0x77680001)")
  boolean proto;

  @Option(names = "--json", description = "print {\"key\":...,\"stored\":true}")
  boolean json;

  @Override
  public Integer call() {
    String text = jsonArgument(profile);
    if (!isJsonObject(text)) {
      throw CliException.failed("bad profile: Profile JSON is an object, starting with '{'");
    }
    byte[] value = text.getBytes(StandardCharsets.UTF_8);
    int flags = WhackClient.PROFILE_JSON_FLAGS;
    if (proto) {
      try {
        value = ProfileJson.parse(value).toByteArray();
      } catch (JsonFormatException e) {
        throw CliException.failed("bad profile: " + e.getMessage());
      }
      flags = WhackClient.PROFILE_PROTOBUF_FLAGS;
    }
    try (WhackClient client = connect()) {
      client.blocking().set(key, value, flags, expiry);
    }
    if (json) {
      JsonOut.print(
          out(),
          g -> {
            g.writeStartObject();
            g.writeStringField("key", key);
            g.writeBooleanField("stored", true);
            g.writeEndObject();
          });
    } else {
      out().println("stored " + key);
    }
    return Whack.EXIT_OK;
  }
}
