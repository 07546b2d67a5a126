package dev.whack.node.protocol;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzz target: the binary protocol (memcached's opcodes and the profile and segment ones) as a
 * client's arbitrary bytes, through the pipeline of an accepted socket onto a real cache and
 * engine, checked by {@link FuzzedConversation}. Seeds: every recorded memcached case and every
 * opcode, in {@code BinaryProtocolFuzzTestInputs/conversation/}.
 */
class BinaryProtocolFuzzTest {
  @FuzzTest(maxDuration = "5m")
  void conversation(byte[] input) {
    if (input.length == 0 || (input[0] & 0xff) != FuzzedConversation.BINARY_REQUEST_MAGIC) {
      return; // a text conversation: TextProtocolFuzzTest's ground
    }
    FuzzedConversation.check(input);
  }
}
