package dev.whack.cli.records;

import java.io.IOException;

/** Reads the records of one stream in order. Not thread-safe. */
public interface RecordReader {
  /**
   * The next record, or null at the end of the stream.
   *
   * @throws BadRecordException for a record that cannot be read; if it is {@link
   *     BadRecordException#recoverable}, the next call goes on after it
   */
  Record next() throws IOException, BadRecordException;

  /** Where a record at {@code position} is, for messages: {@code line 12}, {@code offset 4096}. */
  String where(long position);
}
