package dev.whack.node.testing;

import dev.whack.node.security.AuthFile;
import dev.whack.node.security.PasswordHash;
import dev.whack.node.security.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * An auth file for tests: users {@code reader}, {@code writer} and {@code admin} with the roles
 * their names say, each with the password {@code <name>-pw}. Hashed with the fewest iterations a
 * file may hold, so that a check takes a millisecond rather than a third of a second.
 */
public final class TestUsers {
  public static final List<String> NAMES = List.of("reader", "writer", "admin");

  private TestUsers() {}

  public static String password(String user) {
    return user + "-pw";
  }

  public static Role role(String user) {
    return switch (user) {
      case "reader" -> Role.READ;
      case "writer" -> Role.WRITE;
      default -> Role.ADMIN;
    };
  }

  /** The file's line for a user with this password and role. */
  public static String line(String user, String password, Role role) {
    return AuthFile.line(
        user, role, PasswordHash.of(password.toCharArray(), PasswordHash.MIN_ITERATIONS));
  }

  /** Writes the three users into {@code dir}/users and returns the file. */
  public static Path write(Path dir) {
    StringBuilder text = new StringBuilder("# test users\n\n");
    for (String name : NAMES) {
      text.append(line(name, password(name), role(name))).append('\n');
    }
    Path file = dir.resolve("users");
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /** The text protocol's authentication, as a client sends it. */
  public static String textAuth(String user) {
    String token = user + " " + password(user);
    return "set auth 0 0 " + token.length() + "\r\n" + token + "\r\n";
  }
}
