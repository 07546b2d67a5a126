package dev.whack.cli;

import dev.whack.cli.output.JsonOut;
import dev.whack.cli.output.Table;
import dev.whack.client.DimensionInfo;
import dev.whack.client.WhackClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code whack dimension ...}: define, drop and list preference dimensions. */
@Command(
    name = "dimension",
    mixinStandardHelpOptions = true,
    description = {
      "Define, drop and list preference dimensions: which event property every node counts per",
      "profile and day, as categories (the values seen, up to max_categories; later ones count as",
      "\"other\") or numeric buckets (between the bounds). A definition is JSON:",
      "  {\"property\":\"color\",\"event\":\"view\",\"kind\":\"categorical\",\"max_categories\":32}",
      "  {\"property\":\"price\",\"kind\":\"numeric\",\"bounds\":[10000,20000,40000]}",
      "\"event\" is optional (without it, every event's property counts); \"kind\" follows from",
      "\"bounds\" when left out; max_categories is 1 to 1024 (default 64)."
    },
    subcommands = {
      DimensionCommand.Define.class,
      DimensionCommand.Drop.class,
      DimensionCommand.ListDimensions.class
    },
    footer = {
      "",
      "Examples:",
      "  whack dimension define color '{\"property\":\"color\",\"event\":\"view\"}'",
      "  whack dimension define price '{\"property\":\"price\",\"bounds\":[10000,40000]}'",
      "  whack dimension define mileage --file mileage.json",
      "  whack dimension list",
      "  whack dimension drop color",
      "",
      "The commands are described in docs/protocol.md (\"Dimensions\")."
    })
final class DimensionCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "name a subcommand: define, drop, list");
  }

  @Command(
      name = "define",
      mixinStandardHelpOptions = true,
      description = {
        "Define a dimension (or replace its definition) on every node; events written from now on",
        "are counted in it. A refused definition (bad JSON, an unknown field, a bad name, the 65th",
        "dimension) exits 1 with the node's reason, and nothing is defined."
      },
      footer = {
        "",
        "Examples:",
        "  whack dimension define color '{\"property\":\"color\",\"event\":\"view\"}'",
        "  whack dimension define brand '{\"property\":\"brand\",\"max_categories\":200}'",
        "  whack dimension define price '{\"property\":\"price\",\"bounds\":[10000,40000]}'",
        "  whack dimension define mileage --file mileage.json",
        "  whack dimension define mileage --file - < mileage.json"
      })
  static final class Define extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "the dimension's name")
    String name;

    @Parameters(
        index = "1",
        arity = "0..1",
        paramLabel = "JSON",
        description = "the definition (or give --file)")
    String definition;

    @Option(
        names = "--file",
        paramLabel = "FILE",
        description = "read the definition from FILE ('-' for stdin)")
    String file;

    @Option(names = "--json", description = "print {\"name\":...,\"definition\":{...}}")
    boolean json;

    @Override
    public Integer call() {
      if ((definition == null) == (file == null)) {
        throw CliException.usage("give the definition as JSON or with --file, one of the two");
      }
      String text = definition != null ? definition : read(file);
      DimensionInfo defined;
      try (WhackClient client = connect()) {
        client.blocking().dimensions().define(name, text);
        defined =
            client.blocking().dimensions().list().stream()
                .filter(d -> d.name().equals(name))
                .findFirst()
                .orElse(new DimensionInfo(name, text));
      }
      if (json) {
        JsonOut.print(
            out(),
            g -> {
              g.writeStartObject();
              g.writeStringField("name", name);
              g.writeFieldName("definition");
              g.writeRawValue(defined.definition());
              g.writeEndObject();
            });
      } else {
        out().println("defined " + name + ": " + defined.definition());
      }
      return Whack.EXIT_OK;
    }

    private String read(String path) {
      try {
        byte[] bytes =
            path.equals("-") ? terminal().in().readAllBytes() : Files.readAllBytes(Path.of(path));
        return new String(bytes, StandardCharsets.UTF_8);
      } catch (NoSuchFileException e) {
        throw CliException.usage("no file " + path);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Command(
      name = "drop",
      mixinStandardHelpOptions = true,
      description = {
        "Drop a dimension on every node; profiles stop showing its counts. An unknown dimension",
        "exits 1; so does one that segments read (drop those first)."
      },
      footer = {"", "Examples:", "  whack dimension drop color"})
  static final class Drop extends ClientCommand {
    @Parameters(paramLabel = "NAME", description = "the dimension's name")
    String name;

    @Override
    public Integer call() {
      boolean dropped;
      try (WhackClient client = connect()) {
        dropped = client.blocking().dimensions().drop(name);
      }
      if (!dropped) {
        throw CliException.failed("no dimension " + name);
      }
      out().println("dropped " + name);
      return Whack.EXIT_OK;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description =
          "List the dimensions in definition order: name and definition (every default filled in).",
      footer = {
        "",
        "Examples:",
        "  whack dimension list",
        "  whack dimension list --json | jq -r '.[].name'"
      })
  static final class ListDimensions extends ClientCommand {
    @Option(names = "--json", description = "print [{\"name\":...,\"definition\":{...}}, ...]")
    boolean json;

    @Override
    public Integer call() {
      List<DimensionInfo> dimensions;
      try (WhackClient client = connect()) {
        dimensions = client.blocking().dimensions().list();
      }
      if (json) {
        JsonOut.print(
            out(),
            g -> {
              g.writeStartArray();
              for (DimensionInfo d : dimensions) {
                g.writeStartObject();
                g.writeStringField("name", d.name());
                g.writeFieldName("definition");
                g.writeRawValue(d.definition());
                g.writeEndObject();
              }
              g.writeEndArray();
            });
        return Whack.EXIT_OK;
      }
      Table table = new Table("NAME", "DEFINITION");
      for (DimensionInfo d : dimensions) {
        table.row(d.name(), d.definition());
      }
      table.print(out());
      return Whack.EXIT_OK;
    }
  }
}
