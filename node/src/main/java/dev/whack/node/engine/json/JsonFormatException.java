package dev.whack.node.engine.json;

import dev.whack.node.engine.EngineException;

/** Malformed or unacceptable JSON, with where (line, column, byte offset) and why. */
public final class JsonFormatException extends EngineException {
  private final long line;
  private final long column;
  private final long offset;
  private final String reason;

  public JsonFormatException(String reason, long line, long column, long offset) {
    super("invalid JSON at line " + line + ", column " + column + ": " + reason);
    this.reason = reason;
    this.line = line;
    this.column = column;
    this.offset = offset;
  }

  /** 1-based line of the offending token. */
  public long line() {
    return line;
  }

  /** 1-based column of the offending token. */
  public long column() {
    return column;
  }

  /** 0-based byte (or char) offset of the offending token, -1 when unknown. */
  public long offset() {
    return offset;
  }

  public String reason() {
    return reason;
  }
}
