package dev.whack.node.protocol.ascii;

import static java.nio.charset.StandardCharsets.US_ASCII;

import dev.whack.node.protocol.ProtocolContext;
import dev.whack.node.protocol.ReplyBuffer;
import dev.whack.node.tenant.Tenant;
import dev.whack.node.tenant.TenantQuota;
import dev.whack.node.tenant.Tenants;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code tenant} commands (docs/protocol.md, "Tenants"), a Whack extension for an admin of no
 * tenant (or anyone when the node has no auth file):
 *
 * <pre>
 * tenant create &lt;name&gt; [memory=&lt;bytes&gt;] [segments=&lt;n&gt;] [rate=&lt;n&gt;]  -> CREATED
 * tenant drop &lt;name&gt;                                             -> DROPPED | NOT_FOUND
 * tenant list  -> TENANT &lt;name&gt; &lt;quota and usage, key=value&gt; ... END
 * </pre>
 *
 * <p>Concurrency: one per connection, on its event loop; the registry serializes creations and
 * drops. A create or a drop runs on a thread of its own while the connection waits for its answer
 * (as {@code snapshot} runs in the background): opening or deleting a tenant's directory, and a
 * drop's wait for the tenant's log to close, wait for the disk, and a slow disk must hold the
 * admin's connection only, never the other connections of its event loop.
 */
final class TenantCommands {
  private static final byte[] CREATED = ascii("CREATED\r\n");
  private static final byte[] DROPPED = ascii("DROPPED\r\n");
  private static final byte[] NOT_FOUND = ascii("NOT_FOUND\r\n");
  private static final byte[] END = ascii("END\r\n");
  private static final byte[] USAGE =
      ascii(
          "CLIENT_ERROR usage: tenant create <name> [memory=<bytes>] [segments=<n>]"
              + " [rate=<n>] | tenant drop <name> | tenant list\r\n");
  private static final byte[] NOT_ADMIN_OF_ALL =
      ascii(
          "CLIENT_ERROR unauthorized: tenants are managed by an admin of no tenant (an admin user"
              + " of the auth file without tenant=)\r\n");
  private static final byte[] NO_TENANTS =
      ascii("SERVER_ERROR this node has no tenants (a pipeline outside a node)\r\n");

  private final TextAccess access;
  private Tenants tenants;
  private ReplyBuffer replies;
  private java.util.concurrent.Executor eventLoop;

  /**
   * @param access the connection's authentication, or null when the node has no auth file
   */
  TenantCommands(TextAccess access) {
    this.access = access;
  }

  void bind(ProtocolContext context) {
    this.tenants = context.tenants();
  }

  void attach(ReplyBuffer replies, java.util.concurrent.Executor eventLoop) {
    this.replies = replies;
    this.eventLoop = eventLoop;
  }

  void onLine(AsciiLine line, AsciiCommands.Framing framing) {
    if (access != null && !access.adminOfAllTenants()) {
      replies.bytes(NOT_ADMIN_OF_ALL);
      return;
    }
    if (tenants == null) {
      replies.bytes(NO_TENANTS);
      return;
    }
    String verb = line.tokenCount > 1 ? line.token(1) : "";
    switch (verb) {
      case "create" -> create(line, framing);
      case "drop" -> drop(line, framing);
      case "list" -> list(line);
      default -> replies.bytes(USAGE);
    }
  }

  private void create(AsciiLine line, AsciiCommands.Framing framing) {
    if (line.tokenCount < 3) {
      replies.bytes(USAGE);
      return;
    }
    List<String> settings = new ArrayList<>();
    for (int t = 3; t < line.tokenCount; t++) {
      settings.add(line.token(t));
    }
    String name = line.token(2);
    TenantQuota quota;
    try {
      quota = TenantQuota.parse(settings);
    } catch (IllegalArgumentException e) {
      replies.bytes(ascii("CLIENT_ERROR " + e.getMessage() + "\r\n"));
      return;
    }
    answerOffTheLoop(
        framing,
        () -> {
          tenants.create(name, quota);
          return CREATED;
        });
  }

  private void drop(AsciiLine line, AsciiCommands.Framing framing) {
    if (line.tokenCount != 3) {
      replies.bytes(USAGE);
      return;
    }
    String name = line.token(2);
    answerOffTheLoop(framing, () -> tenants.drop(name) ? DROPPED : NOT_FOUND);
  }

  /** What a create or a drop does, answered by its reply. */
  private interface AdminWork {
    byte[] run() throws IOException;
  }

  /**
   * Runs {@code work} on a thread of its own while the connection waits (its later commands are
   * read once the answer is written), and answers on the connection's event loop.
   */
  private void answerOffTheLoop(AsciiCommands.Framing framing, AdminWork work) {
    framing.suspend();
    Thread.ofPlatform()
        .daemon()
        .name("whack-tenant-admin")
        .start(
            () -> {
              byte[] reply;
              Error fatal = null;
              try {
                reply = work.run();
              } catch (IllegalArgumentException e) {
                reply = ascii("CLIENT_ERROR " + e.getMessage() + "\r\n");
              } catch (IllegalStateException | IOException | java.io.UncheckedIOException e) {
                reply = ascii("SERVER_ERROR " + e.getMessage() + "\r\n");
              } catch (RuntimeException e) {
                reply = ascii("SERVER_ERROR " + e + "\r\n");
              } catch (Error e) {
                reply = ascii("SERVER_ERROR " + e + "\r\n");
                fatal = e; // answered all the same, so the admin's connection is not left waiting
              }
              byte[] answer = reply;
              try {
                eventLoop.execute(() -> framing.resumeWith(answer));
              } catch (java.util.concurrent.RejectedExecutionException stopped) {
                // The node stopped meanwhile, and the connection with it: no one to answer.
              }
              if (fatal != null) {
                throw fatal;
              }
            });
  }

  private void list(AsciiLine line) {
    if (line.tokenCount != 2) {
      replies.bytes(USAGE);
      return;
    }
    StringBuilder out = new StringBuilder();
    for (Tenant t : tenants.list()) {
      Tenant.Parts parts = t.parts();
      out.append(
          String.format(
              Locale.ROOT,
              "TENANT %s %s items=%d bytes=%d limit_maxbytes=%d segments_defined=%d"
                  + " connections=%d over_rate=%d paused=%d\r\n",
              t.name(),
              t.quota().settings(),
              parts.keyspace().itemCount(),
              parts.keyspace().bytesUsed(),
              parts.keyspace().maxBytes(),
              parts.engine().segments().size(),
              t.connections().size(),
              t.overRateCount(),
              t.pausedReads().sum()));
    }
    replies.bytes(ascii(out.toString()));
    replies.bytes(END);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(US_ASCII);
  }
}
