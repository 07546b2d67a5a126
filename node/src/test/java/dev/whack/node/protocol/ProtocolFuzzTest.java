package dev.whack.node.protocol;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzz targets for the memcached port: arbitrary bytes through the pipeline of an accepted socket
 * onto a real cache and engine, whole and in random pieces, checked by {@link FuzzedConversation}.
 * Seeds (one conversation per file, covering every command and opcode and the awkward corners)
 * are in {@code src/test/resources/dev/whack/node/protocol/ProtocolFuzzTestInputs/<target>/} and
 * are replayed by every {@code mvn verify}; {@code scripts/fuzz} fuzzes (docs/architecture.md,
 * "Tests").
 */
class ProtocolFuzzTest {
  private static final int BINARY_REQUEST_MAGIC = 0x80;

  /** The text protocol, classic and meta commands and the profile and segment extensions. */
  @FuzzTest(maxDuration = "5m")
  void textConversation(byte[] input) {
    if (input.length > 0 && (input[0] & 0xff) == BINARY_REQUEST_MAGIC) {
      return; // the binary target's ground
    }
    FuzzedConversation.check(input);
  }

  /** The binary protocol, memcached's opcodes and the profile and segment ones. */
  @FuzzTest(maxDuration = "5m")
  void binaryConversation(byte[] input) {
    if (input.length > 0 && (input[0] & 0xff) != BINARY_REQUEST_MAGIC) {
      return; // the text target's ground
    }
    FuzzedConversation.check(input);
  }
}
