package dev.whack.node.security;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The node's users, from {@code --auth-file}, and the one place a user name and password become a
 * {@link Role}, for every front end (text {@code set} authentication, binary SASL PLAIN, HTTP
 * Basic, gRPC {@code authorization} metadata).
 *
 * <p>A password check is PBKDF2 (a third of a second at the default iterations), so it never runs
 * on an event loop: {@link #check} answers at once when the password is the one last verified for
 * the user, and otherwise on the node's one {@code whack-auth} thread, which also bounds what
 * failed attempts can cost the node to one core. An unknown user is checked against a stand-in hash
 * all the same, so the time taken does not tell which user names exist.
 *
 * <p>Concurrency: the users are one immutable map behind a volatile reference, replaced whole by
 * {@link #reload} (SIGHUP); a check reads it once. Connections authenticated before a reload keep
 * their role until they reconnect, as memcached's do.
 */
public final class Authenticator implements AutoCloseable {
  private final Path file;
  private volatile Users users;
  private final ExecutorService checks =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "whack-auth");
            t.setDaemon(true);
            return t;
          });

  /** The users and the stand-in hash an unknown user is checked against. */
  private record Users(Map<String, User> byName, PasswordHash standIn) {}

  private Authenticator(Path file, Map<String, User> users) {
    this.file = file;
    this.users = users(users);
  }

  /**
   * Loads {@code file}.
   *
   * @throws IllegalArgumentException naming the bad line
   * @throws java.io.UncheckedIOException when it cannot be read
   */
  public static Authenticator load(Path file) {
    return new Authenticator(file, AuthFile.read(file));
  }

  /** For tests: users given as lines of an auth file. */
  public static Authenticator of(java.util.List<String> lines) {
    return new Authenticator(null, AuthFile.parse(lines, "users"));
  }

  private static Users users(Map<String, User> byName) {
    int iterations =
        byName.values().stream()
            .mapToInt(u -> u.hash().iterations())
            .max()
            .orElse(PasswordHash.MIN_ITERATIONS);
    return new Users(byName, PasswordHash.of("stand-in".toCharArray(), iterations));
  }

  /**
   * Reads the file again; a file with a bad line changes nothing (the users stay as they were) and
   * the exception says which line.
   *
   * @return how many users there are now
   */
  public int reload() {
    if (file == null) {
      return users.byName().size();
    }
    Map<String, User> fresh = AuthFile.read(file);
    users = users(fresh);
    return fresh.size();
  }

  /** The auth file, or null for users given in a test. */
  public Path file() {
    return file;
  }

  public int userCount() {
    return users.byName().size();
  }

  /**
   * The role of {@code user} if {@code password} (UTF-8) is theirs, else null: completed at once
   * when this password was the last one verified for the user, else on the auth thread.
   */
  public CompletableFuture<Role> check(String user, byte[] password) {
    Users now = users;
    User u = now.byName().get(user);
    if (u != null) {
      byte[] fingerprint = u.hash().fingerprint(password);
      if (u.remembers(fingerprint)) {
        return CompletableFuture.completedFuture(u.role());
      }
      return CompletableFuture.supplyAsync(
          () -> {
            char[] chars = PasswordHash.chars(password);
            try {
              if (u.hash().matches(chars)) {
                u.remember(fingerprint);
                return u.role();
              }
              return null;
            } finally {
              java.util.Arrays.fill(chars, '\0');
            }
          },
          checks);
    }
    return CompletableFuture.supplyAsync(
        () -> {
          now.standIn().matches(PasswordHash.chars(password));
          return null;
        },
        checks);
  }

  /** {@link #check} of a password given as a string. */
  public CompletableFuture<Role> check(String user, String password) {
    return check(user, password.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    checks.shutdownNow();
  }
}
