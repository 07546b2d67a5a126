package dev.whack.node.security;

import java.util.Locale;

/**
 * What a user may do (docs/security.md, "Authentication and roles"). Each role includes the ones
 * before it: {@code write} may do everything {@code read} may, {@code admin} everything.
 */
public enum Role {
  /** Reads of items and profiles, segment questions, watches, statistics. */
  READ,
  /** Plus stores, updates, deletes, arithmetic and touches. */
  WRITE,
  /** Plus flushes, segment and dimension definitions, snapshots and the node's settings. */
  ADMIN;

  /**
   * The role's name in the auth file and in replies: {@code read}, {@code write}, {@code admin}.
   */
  public String word() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether a user with this role may run a command that needs {@code needed}. */
  public boolean allows(Role needed) {
    return compareTo(needed) >= 0;
  }

  /** The role named {@code word} in an auth file, or null for any other word. */
  public static Role ofWord(String word) {
    return switch (word) {
      case "read" -> READ;
      case "write" -> WRITE;
      case "admin" -> ADMIN;
      default -> null;
    };
  }
}
