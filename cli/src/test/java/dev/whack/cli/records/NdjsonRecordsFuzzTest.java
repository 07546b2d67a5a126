package dev.whack.cli.records;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzz target: an NDJSON load stream ({@link NdjsonReader}, framing lines with {@link
 * NdjsonEnvelope}), checked by {@link FramedRecords}: records, or errors with their line and
 * column. Seeds in {@code NdjsonRecordsFuzzTestInputs/read/}.
 */
class NdjsonRecordsFuzzTest {
  @FuzzTest(maxDuration = "5m")
  void read(byte[] input) {
    FramedRecords.check(input, NdjsonReader::new);
  }
}
