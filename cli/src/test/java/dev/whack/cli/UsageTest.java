package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Help, completion, bad usage (exit 2) and an unreachable cluster (exit 3). */
class UsageTest {
  private final Cli cli = new Cli("127.0.0.1:1");

  /** Every command and subcommand, as the words that name it. */
  private static List<List<String>> everyCommand() {
    List<List<String>> all = new ArrayList<>();
    collect(
        Whack.commandLine(Terminal.captured(null, System.out, System.err, java.util.Map.of())),
        new ArrayList<>(),
        all);
    return all;
  }

  private static void collect(CommandLine c, List<String> path, List<List<String>> all) {
    all.add(List.copyOf(path));
    for (var e : c.getSubcommands().entrySet()) {
      if (e.getKey().equals("help")) {
        continue;
      }
      List<String> next = new ArrayList<>(path);
      next.add(e.getKey());
      collect(e.getValue(), next, all);
    }
  }

  @Test
  void shouldPrintHelpWithExamplesForEveryCommand() {
    List<List<String>> commands = everyCommand();
    assertTrue(commands.size() >= 20, commands.toString());
    for (List<String> words : commands) {
      List<String> args = new ArrayList<>(words);
      args.add("--help");
      Cli.Run run = cli.run(args.toArray(String[]::new));
      assertEquals(0, run.exitCode(), words + ": " + run);
      assertTrue(run.out().startsWith("Usage: whack"), words + ": " + run.out());
      boolean parent =
          words.equals(List.of("segment"))
              || words.equals(List.of("dimension"))
              || words.equals(List.of("cluster"));
      assertTrue(
          run.out().contains("Examples:") || words.isEmpty() && run.out().contains("Examples:"),
          words + " has no examples");
      assertFalse(parent && !run.out().contains("Commands:"), words.toString());
    }
  }

  @Test
  void shouldDocumentTheExitCodesAtTheTop() {
    String help = cli.run("--help").out();
    assertTrue(
        help.contains("3  the cluster, or a node the command needs, cannot be reached"), help);
    assertTrue(help.contains("--verbose"), help);
  }

  @Test
  void shouldPrintACompletionScriptThatKnowsTheCommands() {
    Cli.Run run = cli.run("completion");
    assertEquals(0, run.exitCode());
    assertTrue(run.out().startsWith("#!/usr/bin/env bash"), run.out().substring(0, 40));
    for (String word :
        List.of(
            "segment", "define", "members", "load", "dump", "--skip-bad", "--servers", "status")) {
      assertTrue(run.out().contains(word), word);
    }
  }

  @Test
  void shouldExitTwoForBadUsage() {
    for (String[] args :
        new String[][] {
          {"frobnicate"},
          {"get"},
          {"set", "k"},
          {"segment", "members", "x", "--limit", "many"},
          {"segment"},
          {"dimension"},
          {"dimension", "define", "color"},
          {"cluster"},
          {"load", "--in-flight", "0", "f"},
          {"get", "k", "--timeout", "soon"},
          {"node", "--idle-timeout", "soon"},
          {"node", "--idle-timeout", "-1"},
          {},
        }) {
      Cli.Run run = cli.run(args);
      assertEquals(2, run.exitCode(), String.join(" ", args) + ": " + run);
      assertEquals("", run.out(), String.join(" ", args));
      assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
    }
    Cli.Run unknown = cli.run("frobnicate");
    assertEquals(
        "whack: Unmatched argument at index 0: 'frobnicate'\nTry 'whack --help'.\n", unknown.err());
    assertEquals(
        "whack segment: name a subcommand: define, drop, list, count, members, of, query, watch\nTry 'whack segment --help'.\n",
        cli.run("segment").err());
  }

  @Test
  void shouldExitThreeQuicklyWhenTheClusterCannotBeReached() {
    for (String[] args :
        new String[][] {
          {"get", "k"},
          {"set", "k", "{}"},
          {"update", "k", "{}"},
          {"delete", "k"},
          {"segment", "list"},
          {"segment", "count", "a"},
          {"segment", "members", "a"},
          {"segment", "define", "a", "x == 1"},
          {"segment", "watch", "a", "--for", "1s"},
          {"dimension", "list"},
          {"dimension", "define", "color", "{\"property\":\"color\"}"},
          {"dump"},
          {"stats"},
          {"cluster", "status"},
        }) {
      long start = System.nanoTime();
      Cli.Run run = cli.run(args);
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(3, run.exitCode(), String.join(" ", args) + ": " + run);
      assertTrue(millis < 2_000, String.join(" ", args) + " took " + millis + " ms");
      assertTrue(run.err().lines().count() <= 1, String.join(" ", args) + ": " + run.err());
      assertFalse(run.err().contains("\tat "), String.join(" ", args) + ": " + run.err());
    }
    assertEquals(
        "whack get: cannot reach the cluster: 127.0.0.1:1 is down: Connection refused: /127.0.0.1:1\n",
        cli.run("get", "k").err());
  }

  @Test
  void shouldPrintTheStackTraceOnlyWithVerbose() {
    Cli.Run quiet = cli.run("get", "k");
    assertFalse(quiet.err().contains("\tat "));
    Cli.Run verbose = cli.run("get", "k", "--verbose");
    assertEquals(3, verbose.exitCode());
    assertTrue(verbose.err().startsWith("whack get: cannot reach the cluster: "), verbose.err());
    assertTrue(verbose.err().contains("NodeUnavailableException"), verbose.err());
    assertTrue(verbose.err().contains("\tat "), verbose.err());
    assertEquals(3, cli.run("-v", "get", "k").exitCode(), "before the command too");
    assertTrue(cli.run("-v", "get", "k").err().contains("\tat "));
  }

  @Test
  void shouldTakeServersFromTheOptionBeforeTheEnvironment() {
    Cli.Run run = new Cli("127.0.0.1:1").run("get", "k", "--servers", "127.0.0.1:2");
    assertTrue(run.err().contains("127.0.0.1:2 is down"), run.err());
    Cli.Run bad = new Cli(null).run("get", "k", "--servers", "nohostport");
    assertEquals(2, bad.exitCode(), bad.toString());
    assertTrue(bad.err().startsWith("whack get: --servers: "), bad.err());
  }

  /**
   * Issue 13: a node whose --peers names it under another name than its own forwarded keys to
   * itself, waited 2 s and called itself down. It now refuses to start and says why.
   */
  @Test
  void shouldRefuseToStartANodeThatItsPeersListNamesTwice() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Cli.Run run =
        new Cli(null)
            .run(
                "node",
                "--port",
                Integer.toString(port),
                "--metrics-port",
                "0",
                "--peers",
                "localhost:" + port + ",127.0.0.1:1");
    assertEquals(2, run.exitCode(), run.toString());
    assertEquals(
        "whack node: --peers names localhost:"
            + port
            + ", which is this node (it listens on"
            + " 127.0.0.1:"
            + port
            + "), but this node's name is 127.0.0.1:"
            + port
            + " (--advertise, default --bind:--port); use one name for it in both, or it forwards"
            + " keys to itself\n",
        run.err());

    Cli.Run wildcard =
        new Cli(null)
            .run(
                "node",
                "--bind",
                "0.0.0.0",
                "--port",
                Integer.toString(port),
                "--peers",
                "10.0.0.1:" + port + ",10.0.0.2:" + port);
    assertEquals(2, wildcard.exitCode(), wildcard.toString());
    assertTrue(wildcard.err().contains("bound to 0.0.0.0 needs --advertise"), wildcard.err());
  }

  /**
   * Issue 12: a second node on the same host failed with a bare "Address already in use", most
   * often for the metrics port every node takes. It now names the address, what it is for and the
   * flag that changes it.
   */
  @Test
  void shouldNameATakenMetricsPortAndTheFlagThatChangesIt() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket()) {
      taken.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
      int port = taken.getLocalPort();
      Cli.Run run =
          new Cli(null).run("node", "--port", "0", "--metrics-port", Integer.toString(port));
      assertEquals(1, run.exitCode(), run.toString());
      assertEquals(
          "whack node: cannot listen on 127.0.0.1:"
              + port
              + " for the metrics port: the address is"
              + " already in use (another node on this host?); choose another port with"
              + " --metrics-port, or turn metrics off with --metrics-port 0\n",
          run.err());
    }
  }

  @Test
  void shouldNameATakenMemcachedPortAndTheFlagThatChangesIt() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket()) {
      taken.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
      int port = taken.getLocalPort();
      Cli.Run run =
          new Cli(null).run("node", "--port", Integer.toString(port), "--metrics-port", "0");
      assertEquals(1, run.exitCode(), run.toString());
      assertEquals(
          "whack node: cannot listen on 127.0.0.1:"
              + port
              + " for the memcached port: the address"
              + " is already in use (another node or memcached on this host?); choose another port"
              + " with --port\n",
          run.err());
    }
  }

  @Test
  void shouldPrintTheVersion() {
    Cli.Run run = cli.run("--version");
    assertEquals(0, run.exitCode());
    assertTrue(run.out().startsWith("whack "), run.out());
  }
}
