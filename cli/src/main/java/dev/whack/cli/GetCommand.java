package dev.whack.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import dev.whack.cli.output.JsonOut;
import dev.whack.client.Item;
import dev.whack.client.WhackClient;
import dev.whack.node.engine.json.ProfileJson;
import dev.whack.proto.Profile;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whack get KEY}: a profile as JSON. */
@Command(
    name = "get",
    mixinStandardHelpOptions = true,
    description = {
      "Print a profile as JSON: its attributes, and its event series ($events) and producer",
      "marks ($producers) when it has them. A profile stored as protobuf is printed as JSON too.",
      "A missing key prints an error and exits 1."
    },
    footer = {
      "",
      "Examples:",
      "  whack get user:42",
      "  whack get user:42 --pretty",
      "  whack get user:42 --json            {\"key\":\"user:42\",\"profile\":{...}}, as in a dump",
      "  whack get cfg:banner --raw          an opaque (non-profile) memcached value, as stored"
    })
final class GetCommand extends ClientCommand {
  @Parameters(paramLabel = "KEY", description = "the profile's key")
  String key;

  @Option(names = "--pretty", description = "indent the JSON")
  boolean pretty;

  @Option(names = "--json", description = "print a record {\"key\":...,\"profile\":...}")
  boolean json;

  @Option(names = "--raw", description = "print the stored bytes as they are, profile or not")
  boolean raw;

  @Override
  public Integer call() throws IOException {
    try (WhackClient client = connect()) {
      Optional<Item> found = client.blocking().get(key);
      if (found.isEmpty()) {
        throw CliException.failed("no profile " + key);
      }
      Item item = found.get();
      if (raw) {
        out().write(item.value());
        out().println();
        out().flush();
        return Whack.EXIT_OK;
      }
      String profile = profileJson(key, item);
      String text =
          json ? "{\"key\":" + JsonOut.string(key) + ",\"profile\":" + profile + "}" : profile;
      out().println(pretty ? indent(text) : text);
      return Whack.EXIT_OK;
    }
  }

  /** The item as Profile JSON; a failed operation if it is an opaque value. */
  static String profileJson(String key, Item item) {
    if (item.flags() == WhackClient.PROFILE_PROTOBUF_FLAGS) {
      try {
        return new String(
            ProfileJson.write(Profile.parseFrom(item.value())), StandardCharsets.UTF_8);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw CliException.failed(
            key + " holds a protobuf profile that does not parse: " + e.getMessage());
      }
    }
    String text = item.valueAsString();
    if (!isJsonObject(text)) {
      throw CliException.failed(
          key
              + " holds an opaque value ("
              + item.value().length
              + " bytes, flags "
              + Integer.toUnsignedString(item.flags())
              + "), not a profile; --raw prints it");
    }
    return text;
  }

  static String indent(String json) {
    JsonFactory factory = new JsonFactory();
    StringWriter text = new StringWriter();
    try (JsonParser p = factory.createParser(json);
        JsonGenerator g = factory.createGenerator(text)) {
      g.useDefaultPrettyPrinter();
      p.nextToken();
      g.copyCurrentStructure(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }
}
