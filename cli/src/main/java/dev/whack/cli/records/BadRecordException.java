package dev.whack.cli.records;

/**
 * A record that cannot be framed or read: where it is ({@code line 12, column 5} or {@code offset
 * 4096}) and why. {@link #recoverable} is false when the stream cannot be read past it (a broken
 * length prefix), so even a load that skips bad records must stop.
 */
public final class BadRecordException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String where;
  private final String reason;
  private final boolean recoverable;

  public BadRecordException(String where, String reason, boolean recoverable) {
    super(where + ": " + reason);
    this.where = where;
    this.reason = reason;
    this.recoverable = recoverable;
  }

  public String where() {
    return where;
  }

  public String reason() {
    return reason;
  }

  public boolean recoverable() {
    return recoverable;
  }
}
