package dev.whack.node.protocol.ascii;

import static java.nio.charset.StandardCharsets.US_ASCII;

import dev.whack.node.observability.NodeStats;
import dev.whack.node.protocol.CommandAccess;
import dev.whack.node.protocol.ReplyBuffer;
import dev.whack.node.security.Authenticator;
import dev.whack.node.security.Role;
import dev.whack.node.security.User;
import dev.whack.node.tenant.Tenant;
import dev.whack.node.tenant.Tenants;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Authentication and roles for one text connection, when the node has an auth file: the one check
 * every command line passes before it runs (docs/security.md).
 *
 * <p>Until it is authenticated a connection works as memcached 1.6 with {@code -Y} (its {@code
 * try_read_command_asciiauth}): a {@code set <key> <flags> <exptime> <bytes>} line whose data block
 * is {@code <user> <password>} authenticates it (the key, flags and expiry are ignored), answered
 * {@code STORED}, or {@code CLIENT_ERROR authentication failure}; any other line is answered {@code
 * CLIENT_ERROR unauthenticated} and nothing of it runs (a block after it is read as lines, as
 * memcached reads it). After that, each command needs the role {@link CommandAccess} gives it; a
 * command the user's role does not allow is answered {@code CLIENT_ERROR unauthorized: the <role>
 * role is required} (silent with {@code noreply}, as memcached's classic commands are silent about
 * errors then; meta commands always answer errors), its data block is skipped, and it is counted.
 *
 * <p>A login moves the connection into the user's tenant ({@link AsciiCommands#enter}); from then
 * on each command also takes one request of the tenant's rate quota, and one over it is answered
 * {@code SERVER_ERROR tenant <name> is over its request rate of <n>/s} the same way.
 *
 * <p>Concurrency: one per connection, on that connection's event loop; the password check runs on
 * the authenticator's thread and its answer is handed back to the event loop.
 */
final class TextAccess {
  /** memcached's limit on the {@code user password} block (later 1.6 releases). */
  static final int MAX_TOKEN_BYTES = 16384;

  private static final byte[] UNAUTHENTICATED = ascii("CLIENT_ERROR unauthenticated\r\n");
  private static final byte[] TOKEN_TOO_LONG = ascii("CLIENT_ERROR auth token too long\r\n");
  private static final byte[] BAD_TERMINATION =
      ascii("CLIENT_ERROR bad command line termination\r\n");
  private static final byte[] BAD_TOKEN = ascii("CLIENT_ERROR bad authentication token format\r\n");
  private static final byte[] FAILURE = ascii("CLIENT_ERROR authentication failure\r\n");
  private static final byte[] STORED = ascii("STORED\r\n");
  private static final byte[] NEEDS_WRITE =
      ascii("CLIENT_ERROR unauthorized: the write role is required\r\n");
  private static final byte[] NEEDS_ADMIN =
      ascii("CLIENT_ERROR unauthorized: the admin role is required\r\n");

  private static final byte[] SET = ascii("set");
  private static final byte[] LOCAL = ascii("local");
  private static final byte[] READER = ascii("reader");
  private static final byte[] NOREPLY = ascii("noreply");
  private static final byte[] STATS = ascii("stats");
  private static final byte[] SEGDEF = ascii("segdef");
  private static final byte[] DRYRUN = ascii("dryrun");
  private static final byte[] MG = ascii("mg");

  private static final byte[][] NAMES;
  private static final Role[] ROLES;
  private static final int[] BLOCK_TOKENS;
  private static final boolean[] META;

  static {
    List<CommandAccess.Command> text = CommandAccess.textCommands();
    NAMES = new byte[text.size()][];
    ROLES = new Role[text.size()];
    BLOCK_TOKENS = new int[text.size()];
    META = new boolean[text.size()];
    for (int i = 0; i < text.size(); i++) {
      CommandAccess.Command c = text.get(i);
      NAMES[i] = c.nameBytes();
      ROLES[i] = c.role();
      BLOCK_TOKENS[i] = c.blockToken();
      META[i] = c.protocol().equals("meta");
    }
  }

  private final Authenticator auth;
  private final NodeStats stats;
  private final AsciiNumbers numbers;
  private final AsciiCommands commands;
  private ChannelHandlerContext ctx;
  private ReplyBuffer replies;

  /** The user's role once authenticated; null before. */
  private Role role;

  /** The authenticated user; null before. */
  private User user;

  /** The tenant the user works in, with its quotas; null before (or outside a node's tenants). */
  private Tenant tenant;

  /** The answer to a request over the tenant's rate quota. */
  private byte[] overRate;

  /** A {@code set} line was taken as an authentication: its block is awaited. */
  private boolean awaitingToken;

  TextAccess(Authenticator auth, NodeStats stats, AsciiNumbers numbers, AsciiCommands commands) {
    this.auth = auth;
    this.stats = stats;
    this.numbers = numbers;
    this.commands = commands;
  }

  /** Whether the user may manage tenants: an admin of no tenant. */
  boolean adminOfAllTenants() {
    return user != null && user.adminOfAllTenants();
  }

  void attach(ChannelHandlerContext ctx, ReplyBuffer replies) {
    this.ctx = ctx;
    this.replies = replies;
    Authenticator.closeUnlessAuthenticatedInTime(ctx, this::authenticated);
  }

  boolean authenticated() {
    return role != null;
  }

  /** Whether the connection's role may change items: a reader never wins {@code mg}'s token. */
  boolean mayWrite() {
    return role != null && role.allows(Role.WRITE);
  }

  boolean awaitingToken() {
    return awaitingToken;
  }

  /**
   * Checks a command line; true if it was answered here (an authentication, or a refusal) and must
   * not run.
   */
  boolean intercepts(AsciiLine line, AsciiCommands.Framing framing) {
    if (role == null) {
      unauthenticatedLine(line, framing);
      return true;
    }
    if (line.tokenCount == 0) {
      return false;
    }
    int first = 0;
    if (line.tokenCount > 2 && line.tokenEquals(0, READER) && line.tokenEquals(1, MG_NAME)) {
      first = 1; // "reader mg ..." needs what the mg needs (and may take no win token)
    } else if (line.tokenCount > 1 && line.tokenEquals(0, LOCAL)) {
      first = 1;
    }
    int command = lookup(line, first);
    if (command < 0) {
      return false; // not a command: answered ERROR as ever
    }
    Role needed = needed(line, first, command);
    if (!role.allows(needed)) {
      refuse(line, first, command, needed, framing);
      return true;
    }
    if (tenant != null && !freeOfRate(line, first) && !tenant.admitRequest()) {
      refuse(line, first, command, overRate, framing);
      return true;
    }
    return false;
  }

  private static final byte[] QUIT = ascii("quit");
  private static final byte[] MN = ascii("mn");

  /**
   * {@code quit} and {@code mn} take nothing of the rate: a client over it can still end cleanly.
   */
  private static boolean freeOfRate(AsciiLine line, int first) {
    return line.tokenEquals(first, QUIT) || line.tokenEquals(first, MN);
  }

  private static int lookup(AsciiLine line, int token) {
    for (int i = 0; i < NAMES.length; i++) {
      if (line.tokenEquals(token, NAMES[i])) {
        return i;
      }
    }
    return -1;
  }

  /** The table's role, and the rules of {@link CommandAccess} that depend on the arguments. */
  private static Role needed(AsciiLine line, int first, int command) {
    byte[] name = NAMES[command];
    if (name == STATS_NAME && line.tokenCount > first + 1) {
      int t = first + 1;
      return CommandAccess.adminStats(line.bytes, line.tokenStart[t], line.tokenEnd[t])
          ? Role.ADMIN
          : Role.READ;
    }
    if (name == SEGDEF_NAME && line.tokenCount > first + 3 && line.tokenEquals(first + 3, DRYRUN)) {
      return Role.READ;
    }
    if (name == MG_NAME) {
      for (int t = first + 2; t < line.tokenCount; t++) {
        byte flag = line.tokenByte(t, 0);
        if (flag == 'N' || flag == 'T' || flag == 'R') { // R: may take the recache token
          return Role.WRITE;
        }
      }
    }
    return ROLES[command];
  }

  private static final byte[] STATS_NAME = nameOf(STATS);
  private static final byte[] SEGDEF_NAME = nameOf(SEGDEF);
  private static final byte[] MG_NAME = nameOf(MG);

  /** The table's own array for a name, so that {@link #needed} compares references. */
  private static byte[] nameOf(byte[] word) {
    for (byte[] name : NAMES) {
      if (java.util.Arrays.equals(name, word)) {
        return name;
      }
    }
    throw new IllegalStateException("not in the command table: " + new String(word, US_ASCII));
  }

  private void refuse(
      AsciiLine line, int first, int command, Role needed, AsciiCommands.Framing framing) {
    stats.unauthorizedCommands.increment();
    refuse(line, first, command, needed == Role.ADMIN ? NEEDS_ADMIN : NEEDS_WRITE, framing);
  }

  /** Answers {@code reply} instead of running the command, and skips its data block. */
  private void refuse(
      AsciiLine line, int first, int command, byte[] reply, AsciiCommands.Framing framing) {
    int block = BLOCK_TOKENS[command];
    boolean silent =
        !META[command]
            && line.tokenCount > first + 1
            && line.tokenEquals(line.tokenCount - 1, NOREPLY);
    if (!silent) {
      replies.bytes(reply);
    }
    if (block >= 0 && line.tokenCount > first + block) {
      int t = first + block;
      if (numbers.signed64(line.bytes, line.tokenStart[t], line.tokenEnd[t])
          && numbers.value >= 0
          && numbers.value < Long.MAX_VALUE - 2) {
        framing.swallow(numbers.value + 2); // the block and its "\r\n": never read as commands
      }
    }
  }

  /** memcached's {@code try_read_command_asciiauth}, a line at a time. */
  private void unauthenticatedLine(AsciiLine line, AsciiCommands.Framing framing) {
    if (line.tokenCount < 5
        || !line.tokenEquals(0, SET)
        || !numbers.unsigned32(line.bytes, line.tokenStart[4], line.tokenEnd[4])) {
      stats.unauthenticatedCommands.increment();
      replies.bytes(UNAUTHENTICATED);
      return;
    }
    if (numbers.value > MAX_TOKEN_BYTES) {
      stats.unauthenticatedCommands.increment();
      replies.bytes(TOKEN_TOO_LONG);
      return;
    }
    awaitingToken = true;
    framing.expectData((int) numbers.value);
  }

  /** The {@code user password} block of an authentication. */
  void onToken(byte[] data, boolean terminated, AsciiCommands.Framing framing) {
    awaitingToken = false;
    if (!terminated) {
      replies.bytes(BAD_TERMINATION);
      return;
    }
    int space = -1;
    for (int i = 0; i < data.length; i++) {
      if (data[i] == ' ') {
        space = i;
        break;
      }
    }
    if (space < 0) {
      replies.bytes(BAD_TOKEN);
      return;
    }
    String user = new String(data, 0, space, StandardCharsets.UTF_8);
    byte[] password = java.util.Arrays.copyOfRange(data, space + 1, data.length);
    java.util.concurrent.CompletableFuture<User> check =
        auth.check(user, password, () -> Authenticator.stillAsking(ctx.channel()));
    if (check.isDone() && !check.isCompletedExceptionally()) {
      replies.bytes(authenticated(check.join()));
      return;
    }
    framing.suspend();
    check.whenComplete(
        (checked, failure) ->
            ctx.executor()
                .execute(
                    () -> framing.resumeWith(authenticated(failure == null ? checked : null))));
  }

  /**
   * Takes the outcome of a password check; the reply to give. A user whose tenant does not exist
   * (not created yet, or dropped) fails as a wrong password does; one who logs in moves the
   * connection into their tenant.
   */
  private byte[] authenticated(User checked) {
    stats.authCommands.increment();
    Tenants tenants = commands.tenants();
    Tenant into = checked == null || tenants == null ? null : tenants.ofUser(checked.tenant());
    if (checked == null || (tenants != null && into == null)) {
      stats.authErrors.increment();
      return FAILURE;
    }
    role = checked.role();
    user = checked;
    if (into != null) {
      tenant = into;
      overRate = ascii("SERVER_ERROR " + into.overRateReason() + "\r\n");
      commands.enter(into);
    }
    return STORED;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(US_ASCII);
  }
}
