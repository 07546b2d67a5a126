package dev.whack.cli.records;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzz target: a length-delimited protobuf load stream ({@link ProtobufReader}), checked by {@link
 * FramedRecords}: records, or errors with their byte offset, a broken length ending the stream.
 * Seeds in {@code ProtobufRecordsFuzzTestInputs/read/}.
 */
class ProtobufRecordsFuzzTest {
  @FuzzTest(maxDuration = "5m")
  void read(byte[] input) {
    FramedRecords.check(input, ProtobufReader::new);
  }
}
