package dev.whack.node.protocol;

import static dev.whack.node.security.Role.ADMIN;
import static dev.whack.node.security.Role.READ;
import static dev.whack.node.security.Role.WRITE;

import dev.whack.node.security.Role;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The one table of which role each command needs, for every command of the text, meta and binary
 * protocols (docs/protocol.md lists them; docs/security.md has this table in words). The front ends
 * look a command up here before anything else runs, so a refused command never reaches the keyspace
 * and its reply cannot tell whether a key exists.
 *
 * <p>A few commands need a role that depends on their arguments; those rules are here too: {@code
 * segdef ... dryrun} (binary SegDefine with a sample in its extras) defines nothing and is a {@code
 * read}; {@code stats reset}, {@code stats detail ...} and {@code stats conns} (binary Stat keys
 * {@code reset}, {@code detail ...}, {@code conns}) change the node's counting or show other
 * clients' addresses and are {@code admin}; {@code mg} with {@code R} (take the recache token),
 * {@code N} (create on a miss) or {@code T} (a new TTL) writes and is a {@code write}.
 *
 * <p>Concurrency: immutable.
 */
public final class CommandAccess {
  /**
   * One command.
   *
   * @param protocol {@code text}, {@code meta} or {@code binary}
   * @param name the text command, or the binary opcode's name in memcached's protocol_binary.h
   * @param opcode the binary opcode, -1 for text
   * @param role the role it needs
   * @param blockToken for a text command followed by a data block, the index of the token giving
   *     the block's length (so that a refused command's block is skipped, not read as commands);
   *     else -1
   */
  public record Command(String protocol, String name, int opcode, Role role, int blockToken) {
    /** The text name's bytes, for matching a line's first token without allocating. */
    public byte[] nameBytes() {
      return name.getBytes(StandardCharsets.US_ASCII);
    }
  }

  private static Command text(String name, Role role) {
    return new Command("text", name, -1, role, -1);
  }

  private static Command text(String name, Role role, int blockToken) {
    return new Command("text", name, -1, role, blockToken);
  }

  private static Command meta(String name, Role role, int blockToken) {
    return new Command("meta", name, -1, role, blockToken);
  }

  private static Command binary(int opcode, String name, Role role) {
    return new Command("binary", name, opcode, role, -1);
  }

  /**
   * Every command, the most frequent first within each protocol (the text lookup scans in order).
   */
  public static final List<Command> COMMANDS =
      List.of(
          // text: classic memcached
          text("get", READ),
          text("set", WRITE, 4),
          text("gets", READ),
          text("delete", WRITE),
          text("incr", WRITE),
          text("decr", WRITE),
          text("add", WRITE, 4),
          text("replace", WRITE, 4),
          text("append", WRITE, 4),
          text("prepend", WRITE, 4),
          text("cas", WRITE, 4),
          text("touch", WRITE),
          text("gat", WRITE),
          text("gats", WRITE),
          text("flush_all", ADMIN),
          text("version", READ),
          text("verbosity", ADMIN),
          text("stats", READ), // reset, detail and conns: ADMIN (see above)
          text("quit", READ),
          text("shutdown", ADMIN),
          text("slabs", ADMIN),
          // text: Whack's own
          text("update", WRITE, 2),
          text("sourced", WRITE, 5),
          text("snapshot", ADMIN),
          text("tenant", ADMIN), // and an admin of no tenant: TenantCommands
          text("cluster", READ), // cluster map: what a client routes by
          text("itemdump", READ),
          text("segdef", ADMIN, 2), // segdef ... dryrun: READ
          text("segdrop", ADMIN),
          text("seglist", READ),
          text("segcount", READ, 1),
          text("segmembers", READ, 1),
          text("segof", READ),
          text("segdistinct", READ, 1),
          text("filtercount", READ, 1),
          text("filtermembers", READ, 1),
          text("segdump", READ, 1),
          text("dimdef", ADMIN, 2),
          text("dimdrop", ADMIN),
          text("dimlist", READ),
          text("watch", READ),
          text("unwatch", READ),
          // meta
          meta("mg", READ, -1), // with N, T or R: WRITE
          meta("ms", WRITE, 2),
          meta("md", WRITE, -1),
          meta("ma", WRITE, -1),
          meta("mn", READ, -1),
          meta("me", READ, -1),
          // binary: memcached's opcodes
          binary(0x00, "Get", READ),
          binary(0x09, "GetQ", READ),
          binary(0x0c, "GetK", READ),
          binary(0x0d, "GetKQ", READ),
          binary(0x01, "Set", WRITE),
          binary(0x11, "SetQ", WRITE),
          binary(0x02, "Add", WRITE),
          binary(0x12, "AddQ", WRITE),
          binary(0x03, "Replace", WRITE),
          binary(0x13, "ReplaceQ", WRITE),
          binary(0x0e, "Append", WRITE),
          binary(0x19, "AppendQ", WRITE),
          binary(0x0f, "Prepend", WRITE),
          binary(0x1a, "PrependQ", WRITE),
          binary(0x04, "Delete", WRITE),
          binary(0x14, "DeleteQ", WRITE),
          binary(0x05, "Increment", WRITE),
          binary(0x15, "IncrementQ", WRITE),
          binary(0x06, "Decrement", WRITE),
          binary(0x16, "DecrementQ", WRITE),
          binary(0x1c, "Touch", WRITE),
          binary(0x1d, "GAT", WRITE),
          binary(0x1e, "GATQ", WRITE),
          binary(0x23, "GATK", WRITE),
          binary(0x24, "GATKQ", WRITE),
          binary(0x08, "Flush", ADMIN),
          binary(0x18, "FlushQ", ADMIN),
          binary(0x0a, "NoOp", READ),
          binary(0x0b, "Version", READ), // memcached answers it before authentication too
          binary(0x10, "Stat", READ), // reset, detail and conns: ADMIN (see above)
          binary(0x07, "Quit", READ),
          binary(0x17, "QuitQ", READ),
          // binary: Whack's own (0x60-0x6f)
          binary(0x60, "Update", WRITE),
          binary(0x61, "UpdateQ", WRITE),
          binary(0x62, "SegDefine", ADMIN), // with a sample in its extras (a dry run): READ
          binary(0x63, "SegDrop", ADMIN),
          binary(0x64, "SegList", READ),
          binary(0x65, "SegCount", READ),
          binary(0x66, "SegMembers", READ),
          binary(0x67, "SegOf", READ),
          binary(0x68, "FilterCount", READ),
          binary(0x69, "FilterMembers", READ),
          binary(0x6a, "Watch", READ),
          binary(0x6b, "Unwatch", READ));

  /** The binary opcodes SASL authentication uses; open to every connection. */
  public static final int SASL_LIST_MECHS = 0x20;

  public static final int SASL_AUTH = 0x21;
  public static final int SASL_STEP = 0x22;

  private static final Role[] BY_OPCODE = new Role[256];

  static {
    for (Command c : COMMANDS) {
      if (c.opcode() >= 0) {
        BY_OPCODE[c.opcode()] = c.role();
      }
    }
  }

  private CommandAccess() {}

  /** The text and meta commands, in the table's order. */
  public static List<Command> textCommands() {
    return COMMANDS.stream().filter(c -> c.opcode() < 0).toList();
  }

  /**
   * The role a binary request needs, before its arguments are looked at ({@link #binaryRole} has
   * the rules that depend on them); null for an opcode that is not in the table (the front end
   * answers it as unknown).
   */
  public static Role binaryRole(int opcode) {
    return BY_OPCODE[opcode & 0xff];
  }

  private static final byte[] RESET = ascii("reset");
  private static final byte[] DETAIL = ascii("detail");
  private static final byte[] CONNS = ascii("conns");

  /**
   * The role a binary request needs, its key and extras read: SegDefine with a 4-byte sample (a dry
   * run) is a read; Stat of {@code reset}, {@code detail ...} or {@code conns} is admin.
   */
  public static Role binaryRole(int opcode, int extrasLength, byte[] key, int keyLength) {
    if (opcode == 0x62 && extrasLength == 4) {
      return READ;
    }
    if (opcode == 0x10
        && (startsWith(key, keyLength, RESET)
            || startsWith(key, keyLength, DETAIL)
            || startsWith(key, keyLength, CONNS))) {
      return ADMIN;
    }
    return binaryRole(opcode);
  }

  /** Whether a {@code stats} argument is one that needs {@code admin}. */
  public static boolean adminStats(byte[] bytes, int start, int end) {
    int length = end - start;
    return equals(bytes, start, length, RESET)
        || equals(bytes, start, length, DETAIL)
        || equals(bytes, start, length, CONNS);
  }

  private static boolean startsWith(byte[] key, int keyLength, byte[] word) {
    return keyLength >= word.length && equals(key, 0, word.length, word);
  }

  private static boolean equals(byte[] bytes, int start, int length, byte[] word) {
    if (length != word.length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (bytes[start + i] != word[i]) {
        return false;
      }
    }
    return true;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
