package dev.whack.node.protocol;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzz target: the text protocol (classic and meta commands, the profile and segment extensions) as
 * a client's arbitrary bytes, through the pipeline of an accepted socket onto a real cache and
 * engine, checked by {@link FuzzedConversation}. Seeds: every recorded memcached case and every
 * command of docs/protocol.md, in {@code TextProtocolFuzzTestInputs/conversation/}.
 */
class TextProtocolFuzzTest {
  @FuzzTest(maxDuration = "5m")
  void conversation(byte[] input) {
    if (input.length > 0 && (input[0] & 0xff) == FuzzedConversation.BINARY_REQUEST_MAGIC) {
      return; // a binary conversation: BinaryProtocolFuzzTest's ground
    }
    FuzzedConversation.check(input);
  }
}
