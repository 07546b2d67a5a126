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
}
