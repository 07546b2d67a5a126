package dev.whack.cli;

import dev.whack.client.WhackClient;
import dev.whack.client.tls.ClientTls;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Consumer;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** The options of every command that talks to a cluster. */
final class ClientOptions {
  @Option(
      names = {"-s", "--servers"},
      paramLabel = "HOST:PORT,...",
      description =
          "the cluster's members (default: $WHACK_SERVERS, else "
              + WhackClient.Builder.DEFAULT_SERVER
              + ")")
  String servers;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "how long to wait for a reply, e.g. 500ms, 5s (default: 5s)")
  Duration timeout = Duration.ofSeconds(5);

  @Option(
      names = "--connect-timeout",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "how long a connection may take to open (default: 1s)")
  Duration connectTimeout = Duration.ofSeconds(1);

  @Option(
      names = "--tls",
      description =
          "speak TLS to the nodes, verifying their certificates with the system's trust store"
              + " (or --tls-ca); implied by the other --tls-* options")
  boolean tls;

  @Option(
      names = "--tls-ca",
      paramLabel = "FILE",
      description = "trust the CA certificate(s) in this PEM file instead of the system's")
  java.nio.file.Path tlsCa;

  @Option(
      names = "--tls-cert",
      paramLabel = "FILE",
      description = "present this PEM certificate to nodes that ask for one (with --tls-key)")
  java.nio.file.Path tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      description = "the private key of --tls-cert, unencrypted PKCS#8 PEM")
  java.nio.file.Path tlsKey;

  @Option(
      names = "--user",
      paramLabel = "NAME",
      description =
          "authenticate as this user of the nodes' auth file, with the password from"
              + " --password-file or $"
              + PASSWORD_ENV)
  String user;

  @Option(
      names = "--password-file",
      paramLabel = "FILE",
      description = "the password of --user: this file's first line")
  java.nio.file.Path passwordFile;

  /** Where the password of {@code --user} is read when no {@code --password-file} is given. */
  static final String PASSWORD_ENV = "WHACK_PASSWORD";

  /**
   * The user and password the options give, or null for none: the password from {@code
   * --password-file} (its first line), else {@code WHACK_PASSWORD}; never from the command line,
   * where it would land in the shell's history and in {@code ps}. A missing or unreadable password
   * is a usage error.
   */
  String[] credentials(Terminal terminal) {
    if (user == null) {
      if (passwordFile != null) {
        throw CliException.usage("--password-file goes with --user");
      }
      return null;
    }
    String password;
    if (passwordFile != null) {
      try (java.io.BufferedReader in =
          java.nio.file.Files.newBufferedReader(
              passwordFile, java.nio.charset.StandardCharsets.UTF_8)) {
        password = in.readLine();
      } catch (java.io.IOException e) {
        throw CliException.usage(
            "--password-file " + passwordFile + ": cannot be read (" + e.getMessage() + ")");
      }
      if (password == null) {
        throw CliException.usage("--password-file " + passwordFile + " is empty");
      }
    } else {
      password = terminal.environment().apply(PASSWORD_ENV);
      if (password == null) {
        throw CliException.usage(
            "--user " + user + " needs its password: --password-file FILE or $" + PASSWORD_ENV);
      }
    }
    return new String[] {user, password};
  }

  /** The TLS the options ask for, or null for plaintext; a bad file is a usage error. */
  ClientTls tls() {
    if (!tls && tlsCa == null && tlsCert == null && tlsKey == null) {
      return null;
    }
    if ((tlsCert == null) != (tlsKey == null)) {
      throw CliException.usage("--tls-cert and --tls-key go together");
    }
    ClientTls.Builder builder = ClientTls.builder();
    if (tlsCa != null) {
      builder.trustCa(tlsCa);
    }
    if (tlsCert != null) {
      builder.certificate(tlsCert, tlsKey);
    }
    try {
      return builder.build();
    } catch (UncheckedIOException e) {
      throw CliException.usage(e.getMessage());
    }
  }

  /** The members to use: the option, else WHACK_SERVERS, else the default. */
  String servers(Terminal terminal) {
    if (servers != null && !servers.isBlank()) {
      return servers;
    }
    String env = terminal.environment().apply(WhackClient.Builder.SERVERS_ENV);
    return env != null && !env.isBlank() ? env : WhackClient.Builder.DEFAULT_SERVER;
  }

  WhackClient connect(Terminal terminal) {
    return connect(terminal, b -> {});
  }

  /** A client for the cluster; bad addresses are usage errors (exit 2). */
  WhackClient connect(Terminal terminal, Consumer<WhackClient.Builder> tune) {
    WhackClient.Builder builder =
        WhackClient.builder()
            .servers(servers(terminal))
            .requestTimeout(timeout)
            .connectTimeout(connectTimeout)
            .tls(tls())
            .ioThreads(1);
    String[] credentials = credentials(terminal);
    try {
      if (credentials != null) {
        builder.credentials(credentials[0], credentials[1]);
      }
    } catch (IllegalArgumentException e) {
      throw CliException.usage("--user: " + e.getMessage());
    }
    tune.accept(builder);
    try {
      return builder.build();
    } catch (IllegalArgumentException e) {
      throw CliException.usage("--servers: " + e.getMessage());
    }
  }

  /** {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}; a bare number is seconds. */
  static final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      try {
        Duration d;
        if (v.endsWith("ms")) {
          d = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        } else if (v.endsWith("s")) {
          d =
              Duration.ofMillis(
                  Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000));
        } else if (v.endsWith("m")) {
          d = Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)) * 60);
        } else if (v.endsWith("h")) {
          d = Duration.ofHours(Long.parseLong(v.substring(0, v.length() - 1)));
        } else {
          d = Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000));
        }
        if (d.isNegative() || d.isZero()) {
          throw new TypeConversionException("a duration is positive: '" + value + "'");
        }
        return d;
      } catch (NumberFormatException e) {
        throw new TypeConversionException(
            "not a duration: '" + value + "' (examples: 500ms, 5s, 2m)");
      }
    }
  }
}
