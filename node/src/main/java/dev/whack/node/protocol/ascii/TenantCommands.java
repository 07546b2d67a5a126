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
 * drops. Creating or dropping opens or deletes the tenant's data directory on the event loop: an
 * administrator's rare command, as {@code snapshot} is.
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

  /**
   * @param access the connection's authentication, or null when the node has no auth file
   */
  TenantCommands(TextAccess access) {
    this.access = access;
  }

  void bind(ProtocolContext context) {
    this.tenants = context.tenants();
  }

  void attach(ReplyBuffer replies) {
    this.replies = replies;
  }

  void onLine(AsciiLine line) {
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
      case "create" -> create(line);
      case "drop" -> drop(line);
      case "list" -> list(line);
      default -> replies.bytes(USAGE);
    }
  }

  private void create(AsciiLine line) {
    if (line.tokenCount < 3) {
      replies.bytes(USAGE);
      return;
    }
    List<String> settings = new ArrayList<>();
    for (int t = 3; t < line.tokenCount; t++) {
      settings.add(line.token(t));
    }
    try {
      tenants.create(line.token(2), TenantQuota.parse(settings));
      replies.bytes(CREATED);
    } catch (IllegalArgumentException e) {
      replies.bytes(ascii("CLIENT_ERROR " + e.getMessage() + "\r\n"));
    } catch (IllegalStateException | IOException | java.io.UncheckedIOException e) {
      replies.bytes(ascii("SERVER_ERROR " + e.getMessage() + "\r\n"));
    }
  }

  private void drop(AsciiLine line) {
    if (line.tokenCount != 3) {
      replies.bytes(USAGE);
      return;
    }
    try {
      replies.bytes(tenants.drop(line.token(2)) ? DROPPED : NOT_FOUND);
    } catch (IllegalArgumentException e) {
      replies.bytes(ascii("CLIENT_ERROR " + e.getMessage() + "\r\n"));
    } catch (IOException | java.io.UncheckedIOException e) {
      replies.bytes(ascii("SERVER_ERROR " + e.getMessage() + "\r\n"));
    }
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
