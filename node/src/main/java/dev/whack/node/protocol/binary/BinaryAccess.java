package dev.whack.node.protocol.binary;

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
import java.util.concurrent.CompletableFuture;

/**
 * Authentication and roles for one binary connection, when the node has an auth file: SASL PLAIN as
 * memcached 1.6 with {@code -S} answers it (its {@code proto_bin.c}), and the role check every
 * request passes before it runs (docs/security.md).
 *
 * <ul>
 *   <li>List Mechanisms (0x20): {@code PLAIN}.
 *   <li>Auth (0x21), key = mechanism, value = {@code [authzid] NUL user NUL password}: success with
 *       the body {@code Authenticated}; a wrong user or password, an authzid other than the user or
 *       another mechanism is status 0x20 with {@code Auth failure.}; Auth with an empty value is
 *       status 0x21 (continue) with an empty body, and the next Step (0x22) carries the message. A
 *       Step without an Auth before it fails. A mechanism longer than 32 bytes is {@code Invalid
 *       arguments} (0x04), its body skipped.
 *   <li>Before authentication, any request but those three and Version is answered status 0x20
 *       {@code Auth failure.} and the connection is closed after it, as memcached closes it.
 *   <li>After it, a request the user's role does not allow is answered status 0x20 {@code Auth
 *       failure.} (memcached has no status of its own for it), even a quiet one, its value skipped,
 *       and counted; the connection stays open. A request over the user's tenant's rate quota is
 *       answered status 0x85 (busy) with the reason, the same way.
 * </ul>
 *
 * <p>Concurrency: one per connection, on that connection's event loop; the password check runs on
 * the authenticator's thread and its answer is handed back to the event loop.
 */
final class BinaryAccess {
  static final int STATUS_AUTH_ERROR = 0x20;
  static final int STATUS_AUTH_CONTINUE = 0x21;

  /** memcached's {@code MAX_SASL_MECH_LEN}. */
  private static final int MAX_MECHANISM_BYTES = 32;

  /** The largest SASL message read: a PLAIN message is two names and a password. */
  private static final int MAX_MESSAGE_BYTES = 16384;

  private static final byte[] MECHANISMS = ascii("PLAIN");
  private static final byte[] AUTHENTICATED = ascii("Authenticated");
  private static final byte[] AUTH_FAILURE = ascii("Auth failure.");
  private static final byte[] OUT_OF_MEMORY = ascii("Out of memory");
  private static final byte[] INVALID = ascii("Invalid arguments");

  private final Authenticator auth;
  private final NodeStats stats;
  private final BinaryCommands commands;
  private ChannelHandlerContext ctx;
  private ReplyBuffer replies;

  /** The user's role once authenticated; null before. */
  private Role role;

  /** The tenant the connection works in since its first login; null before (or outside one). */
  private Tenant tenant;

  /** The message of a request refused for the tenant's rate quota. */
  private byte[] overRate;

  /** An Auth with no message answered "continue": the next Step carries it. */
  private boolean started;

  BinaryAccess(Authenticator auth, NodeStats stats, BinaryCommands commands) {
    this.auth = auth;
    this.stats = stats;
    this.commands = commands;
  }

  void attach(ChannelHandlerContext ctx, ReplyBuffer replies) {
    this.ctx = ctx;
    this.replies = replies;
    Authenticator.closeUnlessAuthenticatedInTime(ctx, () -> role != null);
  }

  static boolean isSasl(int opcode) {
    return opcode == CommandAccess.SASL_LIST_MECHS
        || opcode == CommandAccess.SASL_AUTH
        || opcode == CommandAccess.SASL_STEP;
  }

  /**
   * The header is read: answers it here (true) if the connection may not send it before
   * authenticating, or if it is a SASL request whose shape is wrong or that needs no body.
   */
  boolean interceptsHeader(BinaryRequest r, BinaryCommands.Framing framing) {
    int op = r.opcode;
    if (role == null && !isSasl(op) && op != Opcodes.VERSION) {
      stats.unauthenticatedCommands.increment();
      error(r, STATUS_AUTH_ERROR, AUTH_FAILURE);
      framing.closeAfterFlush();
      return true;
    }
    if (!isSasl(op)) {
      return false;
    }
    long body = r.bodyLength;
    if (op == CommandAccess.SASL_LIST_MECHS) {
      if (r.extrasLength != 0 || r.keyLength != 0 || body != 0) {
        invalidAndClose(r, framing);
      } else {
        header(r, 0, MECHANISMS.length);
        replies.bytes(MECHANISMS);
        framing.done();
      }
      return true;
    }
    if (r.extrasLength != 0 || r.keyLength == 0 || body < r.keyLength) {
      invalidAndClose(r, framing);
      return true;
    }
    if (r.keyLength > MAX_MECHANISM_BYTES) {
      error(r, Opcodes.STATUS_INVALID_ARGUMENTS, INVALID);
      framing.swallow(body);
      return true;
    }
    if (r.valueLength() > MAX_MESSAGE_BYTES) {
      error(r, Opcodes.STATUS_OUT_OF_MEMORY, OUT_OF_MEMORY);
      framing.swallow(body);
      return true;
    }
    return false; // read the mechanism, then the message
  }

  /**
   * Key and extras are read: true if the request was answered here (a refusal for the user's role)
   * or is a SASL one that now reads its message.
   */
  boolean interceptsKey(BinaryRequest r, BinaryCommands.Framing framing) {
    if (isSasl(r.opcode)) {
      if (r.valueLength() > 0) {
        framing.readValue();
      } else {
        r.value = new byte[0];
        sasl(r, framing);
      }
      return true;
    }
    if (role == null) {
      return false; // Version, the one request answered before authentication
    }
    Role needed = CommandAccess.binaryRole(r.opcode, r.extrasLength, r.key, r.keyLength);
    if (needed != null && !role.allows(needed)) {
      stats.unauthorizedCommands.increment();
      error(r, STATUS_AUTH_ERROR, AUTH_FAILURE);
    } else if (tenant != null && !freeOfRate(r.opcode) && !tenant.admitRequest()) {
      error(r, Opcodes.STATUS_BUSY, overRate);
    } else {
      return false;
    }
    long value = r.valueLength();
    if (value > 0) {
      framing.swallow(value);
    } else {
      framing.done();
    }
    return true;
  }

  /** Quit, No-op and Version take nothing of the rate: a client over it can still end cleanly. */
  private static boolean freeOfRate(int opcode) {
    return opcode == Opcodes.QUIT
        || opcode == Opcodes.QUITQ
        || opcode == Opcodes.NOOP
        || opcode == Opcodes.VERSION;
  }

  /** Auth or Step with its mechanism (the key) and message (the value). */
  void sasl(BinaryRequest r, BinaryCommands.Framing framing) {
    boolean plain =
        r.keyLength == 5
            && r.key[0] == 'P'
            && r.key[1] == 'L'
            && r.key[2] == 'A'
            && r.key[3] == 'I'
            && r.key[4] == 'N';
    if (r.opcode == CommandAccess.SASL_AUTH) {
      started = plain;
      if (plain && r.value.length == 0) {
        header(r, STATUS_AUTH_CONTINUE, 0); // PLAIN has no challenge: send the message next
        framing.done();
        return;
      }
    } else if (!started) {
      failed(r); // a Step with no Auth before it
      framing.done();
      return;
    }
    started = false;
    if (!plain) {
      failed(r);
      framing.done();
      return;
    }
    // [authzid] NUL authcid NUL passwd (RFC 4616)
    byte[] m = r.value;
    int first = indexOf(m, 0);
    int second = first < 0 ? -1 : indexOf(m, first + 1);
    if (second < 0) {
      failed(r);
      framing.done();
      return;
    }
    String authzid = new String(m, 0, first, StandardCharsets.UTF_8);
    String user = new String(m, first + 1, second - first - 1, StandardCharsets.UTF_8);
    if (!authzid.isEmpty() && !authzid.equals(user)) {
      failed(r); // acting as another user is not offered
      framing.done();
      return;
    }
    byte[] password = java.util.Arrays.copyOfRange(m, second + 1, m.length);
    int opcode = r.opcode;
    int opaque = r.opaque;
    CompletableFuture<User> check =
        auth.check(user, password, () -> Authenticator.stillAsking(ctx.channel()));
    if (check.isDone() && !check.isCompletedExceptionally()) {
      checked(opcode, opaque, check.join());
      framing.done();
      return;
    }
    framing.suspend();
    framing.done(); // the decoder's next state is a header, once the answer is here
    check.whenComplete(
        (checked, failure) ->
            ctx.executor()
                .execute(
                    () -> {
                      if (ctx.isRemoved()) {
                        return; // the connection went away meanwhile
                      }
                      checked(opcode, opaque, failure == null ? checked : null);
                      framing.resumeWith(null);
                    }));
  }

  /**
   * Takes the outcome of a password check. A user whose tenant does not exist fails as a wrong
   * password does; the first login moves the connection into the user's tenant, and a later one
   * (SASL may be asked again) must be of a user of the same tenant: a connection never crosses from
   * one tenant's keyspace to another's.
   */
  private void checked(int opcode, int opaque, User checked) {
    stats.authCommands.increment();
    Tenants tenants = commands.tenants();
    Tenant into = checked == null || tenants == null ? null : tenants.ofUser(checked.tenant());
    if (checked == null
        || (tenants != null && into == null)
        || (tenant != null && into != tenant)) {
      stats.authErrors.increment();
      commands.header(opcode, STATUS_AUTH_ERROR, 0, 0, AUTH_FAILURE.length, opaque, 0);
      replies.bytes(AUTH_FAILURE);
      return;
    }
    role = checked.role();
    if (into != null && tenant == null) {
      tenant = into;
      overRate = ("tenant over its request rate: " + into.overRateReason()).getBytes(US_ASCII);
      commands.enter(into);
    }
    commands.header(opcode, Opcodes.STATUS_OK, 0, 0, AUTHENTICATED.length, opaque, 0);
    replies.bytes(AUTHENTICATED);
  }

  private void failed(BinaryRequest r) {
    checked(r.opcode, r.opaque, null);
  }

  private void invalidAndClose(BinaryRequest r, BinaryCommands.Framing framing) {
    error(r, Opcodes.STATUS_INVALID_ARGUMENTS, INVALID);
    framing.closeAfterFlush();
  }

  private void error(BinaryRequest r, int status, byte[] message) {
    commands.header(r.opcode, status, 0, 0, message.length, r.opaque, 0);
    replies.bytes(message);
  }

  private void header(BinaryRequest r, int status, int bodyLength) {
    commands.header(r.opcode, status, 0, 0, bodyLength, r.opaque, 0);
  }

  private static int indexOf(byte[] bytes, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] == 0) {
        return i;
      }
    }
    return -1;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(US_ASCII);
  }
}
