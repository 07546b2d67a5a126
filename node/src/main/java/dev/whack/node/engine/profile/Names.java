package dev.whack.node.engine.profile;

/** Rules for attribute, event and producer names, checked once at the engine's edge. */
public final class Names {
  /** Longest name in UTF-16 chars; names are interned for the node's lifetime. */
  public static final int MAX_NAME_CHARS = 200;

  private Names() {}

  /** Attribute names: non-empty, at most 200 chars, not starting with the reserved {@code $}. */
  public static void checkAttribute(String name) {
    check("attribute", name);
    if (name.charAt(0) == '$') {
      throw new InvalidProfileException(
          "attribute name \"" + name + "\" starts with '$', which is reserved");
    }
  }

  /** Event and producer names: non-empty, at most 200 chars. */
  public static void check(String what, String name) {
    if (name.isEmpty()) {
      throw new InvalidProfileException(what + " name is empty");
    }
    if (name.length() > MAX_NAME_CHARS) {
      throw new InvalidProfileException(
          what
              + " name is longer than "
              + MAX_NAME_CHARS
              + " chars: \""
              + name.substring(0, 40)
              + "...\"");
    }
  }

  /**
   * {@link #checkAttribute(String)} for a name given as well-formed UTF-8; allocates only to report
   * a rejected name (with the same message).
   */
  public static void checkAttribute(byte[] utf8, int off, int len) {
    if (len == 0 || utf8[off] == '$' || tooLong(utf8, off, len)) {
      checkAttribute(new String(utf8, off, len, java.nio.charset.StandardCharsets.UTF_8));
    }
  }

  /** {@link #check(String, String)} for a name given as well-formed UTF-8. */
  public static void check(String what, byte[] utf8, int off, int len) {
    if (len == 0 || tooLong(utf8, off, len)) {
      check(what, new String(utf8, off, len, java.nio.charset.StandardCharsets.UTF_8));
    }
  }

  private static boolean tooLong(byte[] utf8, int off, int len) {
    return len > MAX_NAME_CHARS && utf16Length(utf8, off, len) > MAX_NAME_CHARS;
  }

  /** Length in UTF-16 chars of well-formed UTF-8 (a 4-byte sequence is a surrogate pair). */
  static int utf16Length(byte[] utf8, int off, int len) {
    int n = 0;
    for (int i = off; i < off + len; i++) {
      int b = utf8[i] & 0xFF;
      if ((b & 0xC0) != 0x80) {
        n += b >= 0xF0 ? 2 : 1;
      }
    }
    return n;
  }
}
