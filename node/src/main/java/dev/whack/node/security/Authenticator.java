package dev.whack.node.security;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The node's users, from {@code --auth-file}, and the one place a user name and password become a
 * {@link Role}, for every front end (text {@code set} authentication, binary SASL PLAIN, HTTP
 * Basic, gRPC {@code authorization} metadata).
 *
 * <p>A password check is PBKDF2 (a third of a second at the default iterations), so it never runs
 * on an event loop: {@link #check} answers at once when the password is the one last verified for
 * the user, and otherwise on the node's one {@code whack-auth} thread, which also bounds what
 * failed attempts can cost the node to one core. An unknown user is checked against a stand-in hash
 * all the same, one that costs what a real user's costs ({@link #users}), so the time taken does
 * not tell which user names exist.
 *
 * <p>Concurrency: the users are one immutable map behind a volatile reference, replaced whole by
 * {@link #reload} (SIGHUP); a check reads it once. Connections authenticated before a reload keep
 * their role until they reconnect, as memcached's do.
 */
public final class Authenticator implements AutoCloseable {
  private final Path file;
  private volatile Users users;

  /**
   * Password checks waiting for the auth thread, at most: past it a check fails at once rather than
   * queue, so a flood of guesses (each up to seconds of PBKDF2) can neither grow the heap nor push
   * real logins minutes back (under such a flood a login may fail and be tried again). A connection
   * has one check at a time (it waits for the answer), and a check whose connection has gone is
   * skipped. Failed attempts do not close a connection, as memcached's do not.
   */
  public static final int MAX_PENDING_CHECKS = 64;

  /** How long a connection may stay unauthenticated before the node closes it. */
  public static final long LOGIN_DEADLINE_MILLIS = 10_000;

  private final java.util.concurrent.ThreadPoolExecutor checks =
      new java.util.concurrent.ThreadPoolExecutor(
          1,
          1,
          0,
          java.util.concurrent.TimeUnit.MILLISECONDS,
          new java.util.concurrent.ArrayBlockingQueue<>(MAX_PENDING_CHECKS),
          r -> {
            Thread t = new Thread(r, "whack-auth");
            t.setDaemon(true);
            return t;
          });

  /**
   * The users and the stand-in hashes an unknown name is checked against: one per user, each
   * costing what that user's own hash costs (one shared per parameter set).
   */
  private record Users(Map<String, User> byName, PasswordHash[] standIns) {}

  /**
   * Picks an unknown name's stand-in; random per node and kept across reloads, so a name always
   * costs the same and nobody outside can tell which stand-in a name gets.
   */
  private final byte[] standInKey = new byte[32];

  private Authenticator(Path file, Map<String, User> users) {
    this.file = file;
    new java.security.SecureRandom().nextBytes(standInKey);
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

  /**
   * Why a stand-in per user rather than one: a check takes as long as the hash's iterations and
   * length make it, and users' hashes may differ (made with other {@code --iterations}, or a longer
   * hash). One stand-in at the cheapest parameters would tell every dearer user apart from unknown
   * names, one at the dearest every cheaper user. So an unknown name is checked against the
   * stand-in of one user, chosen by a keyed hash of the name ({@link #standInFor}): the same name
   * always takes the same time, and unknown names take the times real names take, in the same
   * proportions, whatever parameters the file mixes.
   */
  private static Users users(Map<String, User> byName) {
    List<PasswordHash> kinds = new java.util.ArrayList<>();
    PasswordHash[] standIns = new PasswordHash[Math.max(1, byName.size())];
    int i = 0;
    for (User u : byName.values()) {
      PasswordHash kind = null;
      for (PasswordHash k : kinds) {
        if (k.sameCost(u.hash())) {
          kind = k;
          break;
        }
      }
      if (kind == null) {
        kind = PasswordHash.standInFor(u.hash());
        kinds.add(kind);
      }
      standIns[i++] = kind;
    }
    if (i == 0) {
      standIns[0] = PasswordHash.of("stand-in".toCharArray(), PasswordHash.MIN_ITERATIONS);
    }
    return new Users(byName, standIns);
  }

  /** The stand-in hash an unknown {@code user} is checked against (package-private for tests). */
  PasswordHash standInFor(String user) {
    return standInFor(users, user);
  }

  private PasswordHash standInFor(Users now, String user) {
    try {
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      sha.update(standInKey);
      sha.update(user.getBytes(StandardCharsets.UTF_8));
      byte[] d = sha.digest();
      long pick = java.nio.ByteBuffer.wrap(d).getLong() & Long.MAX_VALUE;
      return now.standIns()[(int) (pick % now.standIns().length)];
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /**
   * Reads the file again; a file with a bad line changes nothing (the users stay as they were) and
   * the exception says which line.
   *
   * @return how many users there are now
   */
  public synchronized int reload() {
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
   * The user named {@code user} if {@code password} (UTF-8) is theirs, else null: completed at once
   * when this password was the last one verified for the user, else on the auth thread; at once
   * with null when {@link #MAX_PENDING_CHECKS} checks are waiting already.
   *
   * @param wanted asked as the check starts: false (the connection that asked is gone) skips it
   */
  public CompletableFuture<User> check(
      String user, byte[] password, java.util.function.BooleanSupplier wanted) {
    Users now = users;
    User u = now.byName().get(user);
    if (u != null) {
      byte[] fingerprint = u.hash().fingerprint(password);
      if (u.remembers(fingerprint)) {
        return CompletableFuture.completedFuture(u);
      }
      return submit(
          () -> {
            char[] chars = PasswordHash.chars(password);
            try {
              // A reload while it waited may have removed the user or changed the password.
              if (u.hash().matches(chars) && users.byName().get(user) == u) {
                u.remember(fingerprint);
                return u;
              }
              return null;
            } finally {
              java.util.Arrays.fill(chars, '\0');
            }
          },
          wanted);
    }
    PasswordHash standIn = standInFor(now, user);
    return submit(
        () -> {
          standIn.matches(PasswordHash.chars(password));
          return null;
        },
        wanted);
  }

  /**
   * Closes the connection of {@code ctx} if it has not authenticated {@link #LOGIN_DEADLINE_MILLIS}
   * from now: one that never does must not hold a --max-connections slot for ever (its refused
   * commands keep it busy, so --idle-timeout would not end it).
   */
  public static void closeUnlessAuthenticatedInTime(
      io.netty.channel.ChannelHandlerContext ctx,
      java.util.function.BooleanSupplier authenticated) {
    ctx.executor()
        .schedule(
            () -> {
              if (!authenticated.getAsBoolean()) {
                ctx.close();
              }
            },
            LOGIN_DEADLINE_MILLIS,
            java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /**
   * Whether the connection that asked for a check still waits for its answer: open, and its client
   * has not ended its input (a guess sent, then the connection closed: nothing to answer, so
   * nothing to check).
   */
  public static boolean stillAsking(io.netty.channel.Channel channel) {
    return channel.isActive()
        && !(channel instanceof io.netty.channel.socket.DuplexChannel duplex
            && duplex.isInputShutdown());
  }

  /** {@link #check} for a caller that waits whatever happens (tests, a client of its own). */
  public CompletableFuture<User> check(String user, byte[] password) {
    return check(user, password, () -> true);
  }

  private CompletableFuture<User> submit(
      java.util.function.Supplier<User> verify, java.util.function.BooleanSupplier wanted) {
    try {
      return CompletableFuture.supplyAsync(
          () -> wanted.getAsBoolean() ? verify.get() : null, checks);
    } catch (java.util.concurrent.RejectedExecutionException full) {
      return CompletableFuture.completedFuture(null);
    }
  }

  /** {@link #check} of a password given as a string. */
  public CompletableFuture<User> check(String user, String password) {
    return check(user, password.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    checks.shutdownNow();
  }
}
