package dev.whack.cli;

import dev.whack.node.security.AuthFile;
import dev.whack.node.security.PasswordHash;
import dev.whack.node.security.Role;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code whack auth hash}: a line for an auth file, so that nobody makes a hash by hand. */
@Command(
    name = "auth",
    mixinStandardHelpOptions = true,
    description = "Users of a node's --auth-file (docs/security.md).",
    subcommands = {AuthCommand.Hash.class},
    footer = {"", "Examples:", "  whack auth hash alice write >> users"})
final class AuthCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(Whack.terminal(spec).err());
    return Whack.EXIT_USAGE;
  }

  @Command(
      name = "hash",
      mixinStandardHelpOptions = true,
      description = {
        "Print an auth file line for USER with ROLE (read, write or admin), the password read",
        "from the first line of standard input and stored only as a salted PBKDF2-HMAC-SHA256",
        "hash. Typed at a terminal, the password is not shown and the prompt goes to stderr.",
        "Append the line to the file, then send the node SIGHUP (or restart it)."
      },
      footer = {
        "",
        "Examples:",
        "  whack auth hash alice write >> users        # type the password, then Enter",
        "  printf '%%s\\n' \"$PASSWORD\" | whack auth hash loader write >> users"
      })
  static final class Hash implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "USER", description = "the user's name")
    String user;

    @Parameters(index = "1", paramLabel = "ROLE", description = "read, write or admin")
    String role;

    @Option(
        names = "--iterations",
        description = "PBKDF2 iterations (default: ${DEFAULT-VALUE}, OWASP's figure for 2023)")
    int iterations = PasswordHash.DEFAULT_ITERATIONS;

    @Override
    public Integer call() {
      Terminal terminal = Whack.terminal(spec);
      String why = AuthFile.badName(user);
      Role r = Role.ofWord(role);
      if (why != null || r == null) {
        terminal
            .err()
            .println(
                "whack auth hash: "
                    + (why != null ? why : "the role is read, write or admin, not " + role));
        return Whack.EXIT_USAGE;
      }
      String password;
      try {
        // Typed at a terminal: not echoed, the prompt on the terminal (stdout is the auth file).
        Optional<String> typed = terminal.hidden().readLine("Password for " + user + ": ");
        password =
            typed.isPresent()
                ? typed.get()
                : new BufferedReader(new InputStreamReader(terminal.in(), StandardCharsets.UTF_8))
                    .readLine();
      } catch (IOException e) {
        terminal.err().println("whack auth hash: cannot read the password: " + e.getMessage());
        return Whack.EXIT_FAILED;
      }
      if (password == null || password.isEmpty()) {
        terminal.err().println("whack auth hash: no password on standard input");
        return Whack.EXIT_USAGE;
      }
      try {
        terminal
            .out()
            .println(AuthFile.line(user, r, PasswordHash.of(password.toCharArray(), iterations)));
      } catch (IllegalArgumentException e) {
        terminal.err().println("whack auth hash: " + e.getMessage());
        return Whack.EXIT_USAGE;
      }
      terminal.out().flush();
      return Whack.EXIT_OK;
    }
  }
}
