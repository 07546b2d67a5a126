package dev.whack.cli;

import dev.whack.cli.output.Human;
import dev.whack.cli.output.JsonOut;
import dev.whack.cli.output.Table;
import dev.whack.client.ServerErrorException;
import dev.whack.client.TenantInfo;
import dev.whack.client.WhackClient;
import dev.whack.node.config.NodeConfig;
import java.util.List;
import java.util.concurrent.CompletionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code whack tenant ...}: create, drop and list a node's tenants. */
@Command(
    name = "tenant",
    mixinStandardHelpOptions = true,
    description = {
      "Create, drop and list tenants: named keyspaces of one node, each with its own profiles,",
      "segments, dimensions and data directory, and quotas for memory, segments and requests a",
      "second. A user of the auth file with tenant=<name> works in that tenant only; managing",
      "tenants needs an admin user of no tenant (docs/security.md, \"Tenants\")."
    },
    subcommands = {
      TenantCommand.Create.class,
      TenantCommand.Drop.class,
      TenantCommand.ListTenants.class
    },
    footer = {
      "",
      "Examples:",
      "  whack tenant create shop --memory 2g --segments 100 --rate 50000 --user root",
      "  whack tenant list",
      "  whack tenant drop shop"
    })
final class TenantCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "name a subcommand: create, drop, list");
  }

  /** The node tenants are managed on: the one named, or the only one. */
  static String theNode(WhackClient client) {
    List<String> servers = client.servers();
    if (servers.size() != 1) {
      throw CliException.usage(
          "tenants live on one node: name it with --servers HOST:PORT (given: " + servers + ")");
    }
    return servers.get(0);
  }

  /** The node's refusal as the command's failure (exit 1). */
  static RuntimeException refused(CompletionException e) {
    Throwable cause = e.getCause() == null ? e : e.getCause();
    if (cause instanceof ServerErrorException refusal) {
      return CliException.failed(refusal.serverMessage());
    }
    return cause instanceof RuntimeException r ? r : e;
  }

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = {
        "Create an empty tenant on the node. Its users (auth file lines with tenant=NAME) can log",
        "in from now on. Its memory comes out of the node's --memory: the default tenant keeps",
        "the rest. A taken or bad name, memory the node cannot spare, or a node without an auth",
        "file, in a cluster or reading Kafka exits 1 with the node's reason."
      },
      footer = {
        "",
        "Examples:",
        "  whack tenant create shop --memory 1g",
        "  whack tenant create blog --memory 512m --segments 20 --rate 10000"
      })
  static final class Create extends ClientCommand {
    @Parameters(
        paramLabel = "NAME",
        description =
            "1 to 64 lower-case letters, digits, '-', '_', '.', starting with a letter or digit")
    String name;

    @Option(
        names = "--memory",
        required = true,
        paramLabel = "SIZE",
        description =
            "its keyspace's cap, carved out of the node's --memory (1m at least; e.g. 512m, 2g)")
    String memory;

    @Option(
        names = "--segments",
        paramLabel = "N",
        description = "how many segments it may define (default: the node's limit)")
    int segments;

    @Option(
        names = "--rate",
        paramLabel = "N",
        description = "requests a second over all its connections (default: no limit)")
    long rate;

    @Override
    public Integer call() {
      long memoryBytes;
      try {
        memoryBytes = NodeConfig.parseSize(memory);
      } catch (IllegalArgumentException e) {
        throw CliException.usage("--memory " + memory + ": " + e.getMessage());
      }
      try (WhackClient client = connect()) {
        client.createTenant(theNode(client), name, memoryBytes, segments, rate).join();
      } catch (CompletionException e) {
        throw refused(e);
      } catch (IllegalArgumentException e) {
        throw CliException.usage(e.getMessage());
      }
      out().println("created tenant " + name);
      return Whack.EXIT_OK;
    }
  }

  @Command(
      name = "drop",
      mixinStandardHelpOptions = true,
      description = {
        "Drop a tenant: its connections are closed and its data deleted, for good. An unknown",
        "tenant exits 1; the default tenant cannot be dropped."
      },
      footer = {"", "Examples:", "  whack tenant drop shop"})
  static final class Drop extends ClientCommand {
    @Parameters(paramLabel = "NAME", description = "the tenant's name")
    String name;

    @Override
    public Integer call() {
      boolean dropped;
      try (WhackClient client = connect()) {
        dropped = client.dropTenant(theNode(client), name).join();
      } catch (CompletionException e) {
        throw refused(e);
      }
      if (!dropped) {
        throw CliException.failed("no tenant " + name);
      }
      out().println("dropped tenant " + name);
      return Whack.EXIT_OK;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {
        "List the node's tenants, the default one first: quotas (- is none of its own) and what",
        "each uses now."
      },
      footer = {
        "",
        "Examples:",
        "  whack tenant list",
        "  whack tenant list --json | jq -r '.[].name'"
      })
  static final class ListTenants extends ClientCommand {
    @Option(names = "--json", description = "print [{\"name\":...,\"items\":...}, ...]")
    boolean json;

    @Override
    public Integer call() {
      List<TenantInfo> tenants;
      try (WhackClient client = connect()) {
        tenants = client.tenants(theNode(client)).join();
      } catch (CompletionException e) {
        throw refused(e);
      }
      if (json) {
        JsonOut.print(
            out(),
            g -> {
              g.writeStartArray();
              for (TenantInfo t : tenants) {
                g.writeStartObject();
                g.writeStringField("name", t.name());
                g.writeNumberField("memory_quota", t.memoryQuota());
                g.writeNumberField("segments_quota", t.segmentsQuota());
                g.writeNumberField("rate_quota", t.rateQuota());
                g.writeNumberField("items", t.items());
                g.writeNumberField("bytes", t.bytes());
                g.writeNumberField("max_bytes", t.maxBytes());
                g.writeNumberField("segments", t.segments());
                g.writeNumberField("connections", t.connections());
                g.writeNumberField("over_rate", t.overRate());
                g.writeNumberField("paused", t.paused());
                g.writeEndObject();
              }
              g.writeEndArray();
            });
        return Whack.EXIT_OK;
      }
      Table table =
          new Table(
              "TENANT", ">ITEMS", ">BYTES", ">CAP", ">SEGMENTS", ">RATE/S", ">CONNS", ">OVER RATE");
      for (TenantInfo t : tenants) {
        table.row(
            t.name(),
            t.items(),
            Human.bytes(t.bytes()),
            Human.bytes(t.maxBytes()),
            t.segments() + (t.segmentsQuota() == 0 ? "" : "/" + t.segmentsQuota()),
            t.rateQuota() == 0 ? "-" : Long.toString(t.rateQuota()),
            t.connections(),
            t.overRate());
      }
      table.print(out());
      return Whack.EXIT_OK;
    }
  }
}
