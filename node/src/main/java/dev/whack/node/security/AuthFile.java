package dev.whack.node.security;

import dev.whack.node.tenant.Tenants;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an auth file ({@code --auth-file}, docs/security.md): one user per line,
 *
 * <pre>
 * # comments and blank lines are allowed
 * alice  write  pbkdf2-sha256$600000$&lt;salt&gt;$&lt;hash&gt;
 * bob    read   pbkdf2-sha256$600000$&lt;salt&gt;$&lt;hash&gt;  tenant=shop
 * </pre>
 *
 * a user name (1 to 64 of {@code A-Z a-z 0-9 . _ @ -}), a role ({@code read}, {@code write} or
 * {@code admin}), a {@link PasswordHash} and optionally the user's tenant, separated by spaces or
 * tabs; a user of no tenant works in the default one. A bad line is refused whole, naming the file
 * and the line: a node does not start, or a reload keeps the users it had.
 */
public final class AuthFile {
  private static final int MAX_USER_BYTES = 64;
  private static final String TENANT = "tenant=";

  private AuthFile() {}

  /**
   * The users of the file, by name.
   *
   * @throws IllegalArgumentException naming the file and line of the first bad line
   * @throws UncheckedIOException when the file cannot be read
   */
  public static Map<String, User> read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the auth file " + file + ": " + e, e);
    }
    return parse(lines, file.toString());
  }

  /** The users of {@code lines}; {@code source} names them in errors. */
  public static Map<String, User> parse(List<String> lines, String source) {
    Map<String, User> users = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] fields = line.split("[ \t]+");
      String where = source + " line " + (i + 1) + ": ";
      if (fields.length != 3 && fields.length != 4) {
        throw new IllegalArgumentException(
            where
                + "a user line is <user> <read|write|admin> <password hash> [tenant=<name>], got "
                + fields.length
                + " fields");
      }
      String tenant = null;
      if (fields.length == 4) {
        if (!fields[3].startsWith(TENANT)) {
          throw new IllegalArgumentException(
              where + "the fourth field is tenant=<name>, not " + fields[3]);
        }
        tenant = fields[3].substring(TENANT.length());
        String bad = Tenants.badName(tenant);
        if (bad != null) {
          throw new IllegalArgumentException(where + bad);
        }
      }
      String name = fields[0];
      String why = badName(name);
      if (why != null) {
        throw new IllegalArgumentException(where + why);
      }
      Role role = Role.ofWord(fields[1]);
      if (role == null) {
        throw new IllegalArgumentException(
            where + "the role is read, write or admin, not " + fields[1]);
      }
      PasswordHash hash;
      try {
        hash = PasswordHash.parse(fields[2]);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + e.getMessage(), e);
      }
      if (users.putIfAbsent(name, new User(name, role, hash, tenant)) != null) {
        throw new IllegalArgumentException(where + "user " + name + " is listed twice");
      }
    }
    return Map.copyOf(users);
  }

  /** Why {@code name} is not a user name, or null if it is one. */
  public static String badName(String name) {
    if (name.isEmpty() || name.length() > MAX_USER_BYTES) {
      return "a user name is 1 to " + MAX_USER_BYTES + " characters";
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == '@'
              || c == '-';
      if (!ok) {
        return "a user name is made of A-Z a-z 0-9 . _ @ -: " + name;
      }
    }
    return null;
  }

  /** The line for {@code user}, as {@code whack auth hash} prints it. */
  public static String line(String user, Role role, PasswordHash hash) {
    return user + " " + role.word() + " " + hash;
  }
}
