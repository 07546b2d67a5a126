package dev.whack.node;

/** Whack's own version, kept in one place. */
public final class Versions {
  public static final String WHACK = "0.1.0";

  private Versions() {}
}
