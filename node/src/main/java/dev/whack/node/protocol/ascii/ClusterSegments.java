package dev.whack.node.protocol.ascii;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.MembersPage;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.SegmentInfo;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.ProfileRejectedException;
import dev.whack.node.protocol.KeyText;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Segment questions answered for the whole cluster (docs/cluster.md): each member answers for
 * the profiles it holds, this node directly and the others through {@code local} commands, and
 * the answers are combined. Sizes and counts add up; lists merge by name; a definition or a drop
 * goes to every member; member pages walk the members in ring order behind a cursor of the form
 * {@code <member index>:<that member's cursor>}. A profile lives on exactly one member, so the
 * combined answers are exact.
 *
 * <p>Concurrency: stateless apart from its wiring; futures complete on client threads.
 */
final class ClusterSegments {
  /** What a page lists. */
  enum Listing {
    SEGMENT_MEMBERS("segmembers"),
    FILTER_MEMBERS("filtermembers"),
    DUMP("segdump");

    final String command;

    Listing(String command) {
      this.command = command;
    }
  }

  private final Cluster cluster;
  private final ProfileEngine engine;
  private final KeyspaceSession keys;

  ClusterSegments(Cluster cluster, ProfileEngine engine, KeyspaceSession keys) {
    this.cluster = cluster;
    this.engine = engine;
    this.keys = keys;
  }

  /** "COUNT n": the sum of every member's count. */
  CompletableFuture<byte[]> count(boolean filter, String expression) {
    String command = filter ? "filtercount" : "segcount";
    return gather(
        () -> lines("COUNT " + (filter ? engine.filterCount(expression) : engine.count(expression))),
        block("local " + command, expression),
        replies -> {
          long total = 0;
          for (byte[] reply : replies) {
            total += Long.parseLong(field(reply, "COUNT ", 1));
          }
          return lines("COUNT " + total);
        });
  }

  /** "DEFINED n": defined on every member, n the sum of their backfilled sizes. */
  CompletableFuture<byte[]> define(String name, String expression) {
    return gather(
        () -> lines("DEFINED " + engine.define(name, expression).size()),
        block("local segdef " + name, expression),
        replies -> {
          long total = 0;
          for (byte[] reply : replies) {
            total += Long.parseLong(field(reply, "DEFINED ", 1));
          }
          return lines("DEFINED " + total);
        });
  }

  /** "DROPPED" if any member had the segment, else "NOT_FOUND". */
  CompletableFuture<byte[]> drop(String name) {
    return gather(
        () -> lines(engine.drop(name) ? "DROPPED" : "NOT_FOUND"),
        ("local segdrop " + name + "\r\n").getBytes(UTF_8),
        replies -> {
          for (byte[] reply : replies) {
            if (new String(reply, UTF_8).startsWith("DROPPED")) {
              return lines("DROPPED");
            }
          }
          return lines("NOT_FOUND");
        });
  }

  /** Every segment once, its size summed over the members, in this node's definition order. */
  CompletableFuture<byte[]> list() {
    return gather(
        () -> localList(engine),
        "local seglist\r\n".getBytes(UTF_8),
        replies -> {
          Map<String, long[]> sizes = new LinkedHashMap<>();
          Map<String, byte[]> expressions = new LinkedHashMap<>();
          for (byte[] reply : replies) {
            int pos = 0;
            while (startsWith(reply, pos, "SEGMENT ")) {
              int eol = indexOf(reply, pos, (byte) '\n');
              String[] t = new String(reply, pos, eol - pos, UTF_8).trim().split(" ");
              int length = Integer.parseInt(t[3]);
              sizes.computeIfAbsent(t[1], n -> new long[1])[0] += Long.parseLong(t[2]);
              expressions.putIfAbsent(t[1], java.util.Arrays.copyOfRange(reply, eol + 1, eol + 1 + length));
              pos = eol + 1 + length + 2;
            }
          }
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          for (Map.Entry<String, long[]> s : sizes.entrySet()) {
            byte[] expression = expressions.get(s.getKey());
            out.writeBytes(
                ("SEGMENT " + s.getKey() + " " + s.getValue()[0] + " " + expression.length + "\r\n")
                    .getBytes(UTF_8));
            out.writeBytes(expression);
            out.writeBytes("\r\n".getBytes(UTF_8));
          }
          out.writeBytes("END\r\n".getBytes(UTF_8));
          return out.toByteArray();
        });
  }

  /**
   * One page: from the member the cursor points at (the first without a cursor), continuing
   * with the next member once one is done.
   */
  CompletableFuture<byte[]> page(Listing listing, String expression, String cursor, int limit) {
    List<String> members = cluster.members();
    int member = 0;
    String inner = null;
    if (cursor != null) {
      int colon = cursor.indexOf(':');
      try {
        member = Integer.parseInt(cursor.substring(0, Math.max(0, colon)));
      } catch (NumberFormatException e) {
        member = -1;
      }
      if (colon < 0 || member < 0 || member >= members.size()) {
        return CompletableFuture.completedFuture(lines("CLIENT_ERROR bad cursor"));
      }
      inner = colon == cursor.length() - 1 ? null : cursor.substring(colon + 1);
    }
    int index = member;
    String name = members.get(member);
    CompletableFuture<byte[]> answer;
    if (name.equals(cluster.self())) {
      String innerCursor = inner;
      answer = CompletableFuture.completedFuture(
          orError(() -> localPage(engine, keys, listing, expression, innerCursor, limit)));
    } else {
      byte[] expr = expression.getBytes(UTF_8);
      String request =
          "local " + listing.command + " " + expr.length + " " + limit
              + (inner == null ? "" : " " + inner) + "\r\n";
      answer = cluster.relay(name, concat(request.getBytes(UTF_8), expr, "\r\n".getBytes(UTF_8)));
    }
    return answer.handle(
        (reply, error) -> {
          if (error != null) {
            return ClusterRouting.unreachable(name, error);
          }
          return continuePage(reply, index, members.size());
        });
  }

  /** Rewrites a member's last line: its NEXT gets the member index, its END may move on. */
  private static byte[] continuePage(byte[] reply, int member, int members) {
    int last = lastLineStart(reply);
    String tail = new String(reply, last, reply.length - last, ISO_8859_1).trim();
    ByteArrayOutputStream out = new ByteArrayOutputStream(reply.length + 16);
    if (tail.startsWith("NEXT ")) {
      out.write(reply, 0, last);
      out.writeBytes(("NEXT " + member + ":" + tail.substring(5) + "\r\n").getBytes(ISO_8859_1));
    } else if (tail.equals("END") && member + 1 < members) {
      out.write(reply, 0, last);
      out.writeBytes(("NEXT " + (member + 1) + ":\r\n").getBytes(ISO_8859_1));
    } else {
      out.writeBytes(reply); // the final END, or an error
    }
    return out.toByteArray();
  }

  private static boolean startsWith(byte[] b, int pos, String prefix) {
    if (b.length - pos < prefix.length()) {
      return false;
    }
    for (int i = 0; i < prefix.length(); i++) {
      if (b[pos + i] != prefix.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static int indexOf(byte[] b, int from, byte value) {
    for (int i = from; i < b.length; i++) {
      if (b[i] == value) {
        return i;
      }
    }
    return b.length;
  }

  private static int lastLineStart(byte[] reply) {
    int i = reply.length - 2; // before the final \r\n
    while (i > 0 && reply[i - 1] != '\n') {
      i--;
    }
    return Math.max(i, 0);
  }

  // ---------------------------------------------------------------------------------------------
  // This node's answers in wire form (also used when the node is alone).

  static byte[] localList(ProfileEngine engine) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (SegmentInfo s : engine.segments()) {
      byte[] expression = s.expression().getBytes(UTF_8);
      out.writeBytes(
          ("SEGMENT " + s.name() + " " + s.size() + " " + expression.length + "\r\n").getBytes(UTF_8));
      out.writeBytes(expression);
      out.writeBytes("\r\n".getBytes(UTF_8));
    }
    out.writeBytes("END\r\n".getBytes(UTF_8));
    return out.toByteArray();
  }

  static byte[] localPage(
      ProfileEngine engine,
      KeyspaceSession keys,
      Listing listing, String expression, String cursor, int limit) {
    MembersPage page =
        switch (listing) {
          case SEGMENT_MEMBERS -> engine.members(expression, cursor, limit);
          case FILTER_MEMBERS -> engine.filterMembers(expression, cursor, limit);
          case DUMP -> engine.members(expression.isBlank() ? null : expression, cursor, limit);
        };
    TextOut out = new TextOut();
    for (String key : page.keys()) {
      if (listing == Listing.DUMP) {
        byte[] keyBytes = KeyText.bytes(key);
        byte[] json = keys.profileJson(keyBytes, 0, keyBytes.length);
        if (json == null) {
          continue; // removed since the page was read
        }
        out.text("PROFILE ").key(key).text(" " + json.length + "\r\n").bytes(json).text("\r\n");
      } else {
        out.text("KEY ").key(key).text("\r\n");
      }
    }
    out.text(page.nextCursor() != null ? "NEXT " + page.nextCursor() + "\r\n" : "END\r\n");
    return out.toByteArray();
  }

  /** A byte buffer with the key escaping of listings. */
  static final class TextOut extends ByteArrayOutputStream {
    TextOut text(String s) {
      writeBytes(s.getBytes(UTF_8));
      return this;
    }

    TextOut bytes(byte[] b) {
      writeBytes(b);
      return this;
    }

    TextOut key(String key) {
      for (int i = 0; i < key.length(); i++) {
        int b = key.charAt(i) & 0xFF;
        if (b > 0x20 && b < 0x7f && b != '%') {
          write(b);
        } else {
          writeBytes(String.format("%%%02X", b).getBytes(ISO_8859_1));
        }
      }
      return this;
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Asks this node and every peer; the first error (of any member) is the answer. */
  private CompletableFuture<byte[]> gather(
      Supplier<byte[]> local, byte[] peerRequest, java.util.function.Function<List<byte[]>, byte[]> combine) {
    byte[] mine = orError(local);
    List<String> peers = cluster.peers();
    List<CompletableFuture<byte[]>> asks = new ArrayList<>();
    for (String peer : peers) {
      asks.add(cluster.relay(peer, peerRequest));
    }
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
        .handle(
            (ignored, error) -> {
              if (isError(mine)) {
                return mine;
              }
              List<byte[]> replies = new ArrayList<>();
              replies.add(mine);
              for (int i = 0; i < asks.size(); i++) {
                CompletableFuture<byte[]> ask = asks.get(i);
                if (ask.isCompletedExceptionally()) {
                  return ClusterRouting.unreachable(peers.get(i), ask.exceptionNow());
                }
                byte[] reply = ask.join();
                if (isError(reply)) {
                  return reply;
                }
                replies.add(reply);
              }
              return combine.apply(replies);
            });
  }

  private static byte[] orError(Supplier<byte[]> answer) {
    try {
      return answer.get();
    } catch (EngineException | IllegalArgumentException e) {
      return lines("CLIENT_ERROR " + ProfileRejectedException.oneLine(e.getMessage()));
    }
  }

  private static boolean isError(byte[] reply) {
    String start = new String(reply, 0, Math.min(reply.length, 16), ISO_8859_1);
    return start.startsWith("CLIENT_ERROR") || start.startsWith("SERVER_ERROR")
        || start.startsWith("ERROR");
  }

  private static String field(byte[] reply, String prefix, int index) {
    String line = new String(reply, UTF_8).trim();
    if (!line.startsWith(prefix)) {
      throw new IllegalStateException("a member answered " + line + " where " + prefix + "was due");
    }
    return line.split(" ")[index];
  }

  private static byte[] block(String commandAndName, String body) {
    byte[] b = body.getBytes(UTF_8);
    return concat(
        (commandAndName + " " + b.length + "\r\n").getBytes(UTF_8), b, "\r\n".getBytes(UTF_8));
  }

  private static byte[] lines(String line) {
    return (line + "\r\n").getBytes(UTF_8);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
