package dev.whack.cli;

import dev.whack.cli.output.JsonOut;
import dev.whack.client.WhackClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whack delete KEY}. */
@Command(
    name = "delete",
    mixinStandardHelpOptions = true,
    description = {
      "Remove a profile (and so its segment memberships) or any other item. A missing key",
      "prints an error and exits 1."
    },
    footer = {
      "",
      "Examples:",
      "  whack delete user:42",
      "  whack delete user:42 || echo 'was not there'"
    })
final class DeleteCommand extends ClientCommand {
  @Parameters(paramLabel = "KEY", description = "the key to remove")
  String key;

  @Option(names = "--json", description = "print {\"key\":...,\"deleted\":true|false}")
  boolean json;

  @Override
  public Integer call() {
    boolean deleted;
    try (WhackClient client = connect()) {
      deleted = client.blocking().delete(key);
    }
    if (json) {
      JsonOut.print(
          out(),
          g -> {
            g.writeStartObject();
            g.writeStringField("key", key);
            g.writeBooleanField("deleted", deleted);
            g.writeEndObject();
          });
      return deleted ? Whack.EXIT_OK : Whack.EXIT_FAILED;
    }
    if (!deleted) {
      throw CliException.failed("nothing stored under " + key); // a profile or an opaque item
    }
    out().println("deleted " + key);
    return Whack.EXIT_OK;
  }
}
