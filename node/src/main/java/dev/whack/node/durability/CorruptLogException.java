package dev.whack.node.durability;

import java.io.IOException;
import java.nio.file.Path;

/** A log damaged before its end: start-up stops rather than guess past it. */
public final class CorruptLogException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final long offset;

  public CorruptLogException(Path file, long offset, String reason) {
    super(file + " at byte " + offset + ": " + reason);
    this.file = file;
    this.offset = offset;
  }

  public Path file() {
    return file;
  }

  public long offset() {
    return offset;
  }
}
